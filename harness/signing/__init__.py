"""Authentication exactly as each provider does it, every forgery an attacker might try, and how a receiver checks it.

A scheme is either a registered class (ECDSA, Basic, bearer, OAuth) or an HMAC scheme a profile describes as data
(``auth.hmac``); ``scheme_for`` resolves a profile's scheme name to either. Each scheme owns its signer, its negative
variants and its verifier. ``sign_delivery`` applies every scheme the credentials configure (SendGrid may have its
ECDSA signature and an OAuth token at once), ``forge_delivery`` makes one negative variant, ``verifiers`` gives the
reference receiver its checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

from harness.catalog import AuthSpec, HmacSpec, Provider
from harness.core.models import Delivery
from harness.core.registry import Registry
from harness.credentials import Credentials
from harness.errors import ConfigError
from harness.signing._base import VARIANTS, SigningScheme, tamper
from harness.signing._body_secret import ClientState
from harness.signing._declarative import HmacScheme
from harness.signing._ecdsa import SendGridEcdsa
from harness.signing._ed25519 import DiscordEd25519, StandardV1a
from harness.signing._mailgun import MailgunBody
from harness.signing._oidc import OidcToken
from harness.signing._static import Basic, Bearer, OAuth, StaticAuthorization
from harness.signing._verifier import Verifier, signing_url
from harness.signing._x509 import (
    FOREIGN_HOST,
    CertificateServer,
    SnsCertificate,
    certificates_of,
    serving_certificates,
    sns_keypair,
)
from harness.signing.oauth import TokenClient

__all__ = [
    "FOREIGN_HOST",
    "OAUTH_SCHEME",
    "SCHEMES",
    "CertificateServer",
    "VARIANTS",
    "HmacScheme",
    "SigningScheme",
    "TokenClient",
    "Verifier",
    "active_schemes",
    "applicable_variants",
    "certificates_of",
    "forge_delivery",
    "fresh_credentials",
    "fuzz_deliveries",
    "scheme_for",
    "serving_certificates",
    "sign_delivery",
    "signing_url",
    "sns_keypair",
    "tamper",
    "verifiers",
]

OAUTH_SCHEME = OAuth.name
SCHEMES: Registry[SigningScheme] = Registry("signing scheme")
_BUILT_IN: tuple[SigningScheme, ...] = (
    SendGridEcdsa(),
    OAuth(),
    Basic(),
    Bearer(),
    ClientState(),
    StaticAuthorization(),
    StandardV1a(),
    DiscordEd25519(),
    OidcToken(),
    MailgunBody(),
    SnsCertificate(),
)
for _scheme in _BUILT_IN:
    SCHEMES.register(_scheme.name, _scheme)

_DECLARED: dict[tuple[str, HmacSpec], HmacScheme] = {}


def scheme_for(provider: Provider, name: str) -> SigningScheme:
    """The scheme a profile names: one it describes under ``auth.hmac``, else a registered one."""
    spec = provider.auth.hmac.get(name)
    if spec is None:
        if name not in SCHEMES.names():
            declared = ", ".join([*provider.auth.hmac, *SCHEMES.names()])
            raise ConfigError(
                f"{provider.id!r} names the auth scheme {name!r}, which is neither in its auth.hmac "
                f"nor built in (known: {declared})."
            )
        return SCHEMES.get(name)
    if "{method}" in spec.content:  # the harness sends only the provider's method, and a receiver refuses others
        spec = _with_method(spec, provider.method)
    found = _DECLARED.get((name, spec))
    if found is None:
        if len(_DECLARED) > 256:
            _DECLARED.clear()
        found = _DECLARED[(name, spec)] = HmacScheme(name, spec)
    return found


def _with_method(spec: HmacSpec, method: str) -> HmacSpec:
    """The description with ``{method}`` rendered as the provider's HTTP method (HubSpot signs it)."""
    also = tuple(_with_method(extra, method) for extra in spec.also)
    return replace(spec, content=spec.content.replace("{method}", method), also=also)


def verifiers(
    provider: Provider,
    creds: Credentials,
    token_ok: Callable[[str], bool],
    *,
    legacy: bool = False,
    lax: frozenset[str] = frozenset(),
) -> list[Verifier]:
    """A receiver's checks: one per scheme the credentials configure; a request must pass every one.

    ``legacy``: where a scheme sends companion signatures (GitHub's SHA-1), check only the last companion, as
    older libraries do. ``lax``: verification steps left out where a scheme has them (the reference receiver's bugs).
    """
    out = [
        scheme.lax_verifier(provider, creds, lax & scheme.lax_steps)
        if lax & scheme.lax_steps
        else (
            scheme.companions[-1] if legacy and isinstance(scheme, HmacScheme) and scheme.companions else scheme
        ).verifier(provider, creds, token_ok)
        for scheme in active_schemes(provider, creds)
    ]
    if not out:
        from harness.signing.requirements import scheme_hint  # it builds on this module

        wanted = ", ".join(provider.auth.schemes)
        hints = " or ".join(dict.fromkeys(scheme_hint(provider, name) for name in provider.auth.schemes))
        raise ConfigError(
            f"No credentials for any auth scheme of {provider.id!r} ({wanted}); refusing to run open: give {hints}."
        )
    return out


def fresh_credentials(provider: Provider, folder: Path, token_url: str) -> Credentials:
    """New credentials for a receiver: the provider's first scheme, plus OAuth where the profile lists it."""
    wanted = [provider.auth.schemes[0]]
    if OAUTH_SCHEME in provider.auth.schemes[1:]:
        wanted.append(OAUTH_SCHEME)
    creds = Credentials()
    for name in wanted:
        made = scheme_for(provider, name).fresh_credentials(provider, folder, token_url)
        given = {f.name: getattr(made, f.name) for f in fields(made) if getattr(made, f.name) is not None}
        creds = replace(creds, **given)
    return creds


def active_schemes(provider: Provider, creds: Credentials) -> list[SigningScheme]:
    """The provider's schemes for which the credentials are present, in the profile's order."""
    return list(_active(provider, creds))


_LAST: tuple[object, object, SigningScheme] = (None, None, SigningScheme())
_ACTIVE: dict[tuple[object, ...], list[SigningScheme]] = {}
_ACTIVE_BY_ID: dict[tuple[int, int], tuple[AuthSpec, Credentials, list[SigningScheme]]] = {}


def _active(provider: Provider, creds: Credentials) -> list[SigningScheme]:
    auth = provider.auth
    fast = _ACTIVE_BY_ID.get((id(auth), id(creds)))
    if fast is not None and fast[0] is auth and fast[1] is creds:
        return fast[2]  # the hot path: the same provider and credentials object as last time
    key = (auth.schemes, tuple(auth.hmac.items()), creds)
    found = _ACTIVE.get(key)
    if found is None:
        candidates = [scheme_for(provider, name) for name in auth.schemes]
        found = [scheme for scheme in candidates if scheme.configured(creds)]
        if len(_ACTIVE) > 256:
            _ACTIVE.clear()
        _ACTIVE[key] = found
    if len(_ACTIVE_BY_ID) > 256:
        _ACTIVE_BY_ID.clear()
    _ACTIVE_BY_ID[(id(auth), id(creds))] = (auth, creds, found)
    return found


def _remember(auth: AuthSpec, creds: Credentials, scheme: SigningScheme) -> None:
    global _LAST
    _LAST = (auth, creds, scheme)  # one atomic assignment: readers see the old or the new triple, never a mix


def _at(delivery: Delivery, url: str) -> Delivery:
    """The delivery bound for ``url`` (as a scheme signs it); kept when it already is."""
    signed = signing_url(url)
    return delivery if signed == delivery.url else delivery.replace(url=signed)


def sign_delivery(
    provider: Provider, delivery: Delivery, creds: Credentials, *, now: float | None = None, url: str | None = None
) -> Delivery:
    """Authenticate a delivery with every active scheme; each call takes a fresh timestamp.

    ``url`` is where it will be posted: a scheme that signs the URL (``{url}``) needs it, here or in ``delivery.url``.
    """
    if now is None:
        now = time.time()
    last = _LAST
    if last[0] is provider.auth and last[1] is creds:  # the same provider and credentials as last call
        scheme = last[2]
        if url is not None and scheme.needs_url:
            if isinstance(scheme, HmacScheme):
                return scheme.sign(provider, delivery, creds, now, url)  # the URL set with the signed headers
            delivery = _at(delivery, url)
        return scheme.sign(provider, delivery, creds, now)
    schemes = _active(provider, creds)
    if url is not None and any(s.needs_url for s in schemes):
        delivery = _at(delivery, url)
    if len(schemes) == 1:
        _remember(provider.auth, creds, schemes[0])
        return schemes[0].sign(provider, delivery, creds, now)
    for scheme in schemes:
        delivery = scheme.sign(provider, delivery, creds, now)
    return delivery


def applicable_variants(provider: Provider, creds: Credentials) -> list[str]:
    """The negative variants that at least one active scheme can produce, in ``VARIANTS`` order."""
    found = {v for scheme in active_schemes(provider, creds) for v in scheme.variants(provider)}
    return [v for v in VARIANTS if v in found]


def forge_delivery(
    provider: Provider,
    delivery: Delivery,
    creds: Credentials,
    variant: str,
    *,
    now: float | None = None,
    url: str | None = None,
) -> Delivery | None:
    """One negative variant: every other active scheme signs correctly, the first that can forge it does.

    ``missing`` strips every scheme's credentials. Returns None when no active scheme has the variant. ``url`` is
    where it will be posted, as for ``sign_delivery``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    now = time.time() if now is None else now
    schemes = active_schemes(provider, creds)
    if url is not None and any(s.needs_url for s in schemes):
        delivery = _at(delivery, url)
    if variant == "missing":
        out = delivery
        for scheme in schemes:
            forged = scheme.forge(provider, out, creds, "missing", now)
            out = forged if forged is not None else out
        return out.replace(label="missing") if schemes else None
    for index, scheme in enumerate(schemes):
        if variant not in scheme.variants(provider):
            continue
        out = delivery
        for other in schemes[:index]:
            out = other.sign(provider, out, creds, now)
        if variant == "tampered-body":
            # Every scheme signs the original body; then the body changes under the signatures.
            signed = out
            for other in schemes[index:]:
                signed = other.sign(provider, signed, creds, now)
            return scheme.tampered(provider, signed, delivery.body).replace(label=variant)
        forged = scheme.forge(provider, out, creds, variant, now)
        if forged is None:
            continue
        for other in schemes[index + 1 :]:
            forged = other.sign(provider, forged, creds, now)
        return forged.replace(label=variant)
    return None


def fuzz_deliveries(
    provider: Provider, delivery: Delivery, creds: Credentials, *, now: float | None = None, url: str | None = None
) -> list[Delivery]:
    """Forgeries a fuzzer would try, scheme by scheme: the others sign correctly, this one's headers are mangled.

    None carries a valid signature (each starts from a stranger's key), so anyone can send them: each must get a 4xx.
    """
    now = time.time() if now is None else now
    schemes = active_schemes(provider, creds)
    if url is not None and any(s.needs_url for s in schemes):
        delivery = _at(delivery, url)
    out: list[Delivery] = []
    for index, scheme in enumerate(schemes):
        before = delivery
        for other in schemes[:index]:
            before = other.sign(provider, before, creds, now)
        for forged in scheme.fuzz(provider, before, creds, now):
            for other in schemes[index + 1 :]:
                forged = other.sign(provider, forged, creds, now)
            out.append(forged)
    return out
