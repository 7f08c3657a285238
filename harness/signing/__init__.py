"""Authentication exactly as each provider does it, and every forgery an attacker might try.

A scheme is one registered class; ``sign_delivery`` applies every scheme the credentials configure (SendGrid may have
its ECDSA signature and an OAuth token at once), ``forge_delivery`` makes one negative variant.
"""

from __future__ import annotations

import time

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.core.registry import Registry
from harness.credentials import Credentials
from harness.signing._base import VARIANTS, SigningScheme, tamper
from harness.signing._ecdsa import SendGridEcdsa
from harness.signing._hmac import GitHub, Jira, Shopify, Slack, Standard, Stripe, SvixStandard, TeamsHmac
from harness.signing._static import Basic, Bearer
from harness.signing.oauth import OAuthClientCredentials, TokenClient

__all__ = [
    "SCHEMES",
    "VARIANTS",
    "SigningScheme",
    "TokenClient",
    "active_schemes",
    "applicable_variants",
    "forge_delivery",
    "sign_delivery",
    "tamper",
]

SCHEMES: Registry[SigningScheme] = Registry("signing scheme")
for _scheme in (
    SendGridEcdsa(),
    OAuthClientCredentials(),
    TeamsHmac(),
    Jira(),
    GitHub(),
    Stripe(),
    Slack(),
    Shopify(),
    Standard(),
    SvixStandard(),
    Basic(),
    Bearer(),
):
    SCHEMES.register(_scheme.name, _scheme)


_ACTIVE: dict[tuple[tuple[str, ...], Credentials], list[SigningScheme]] = {}


def active_schemes(provider: Provider, creds: Credentials) -> list[SigningScheme]:
    """The provider's schemes for which the credentials are present, in the profile's order."""
    return list(_active(provider, creds))


_LAST: tuple[object, object, SigningScheme] = (None, None, SigningScheme())
_ACTIVE_BY_ID: dict[tuple[int, int], tuple[tuple[str, ...], Credentials, list[SigningScheme]]] = {}


def _active(provider: Provider, creds: Credentials) -> list[SigningScheme]:
    schemes = provider.auth.schemes
    fast = _ACTIVE_BY_ID.get((id(schemes), id(creds)))
    if fast is not None and fast[0] is schemes and fast[1] is creds:
        return fast[2]  # the hot path: the same provider and credentials object as last time
    key = (schemes, creds)
    found = _ACTIVE.get(key)
    if found is None:
        found = [SCHEMES.get(name) for name in provider.auth.schemes if SCHEMES.get(name).configured(creds)]
        if len(_ACTIVE) > 256:
            _ACTIVE.clear()
        _ACTIVE[key] = found
    if len(_ACTIVE_BY_ID) > 256:
        _ACTIVE_BY_ID.clear()
    _ACTIVE_BY_ID[(id(schemes), id(creds))] = (schemes, creds, found)
    return found


def _remember(schemes: tuple[str, ...], creds: Credentials, scheme: SigningScheme) -> None:
    global _LAST
    _LAST = (schemes, creds, scheme)  # one atomic assignment: readers see the old or the new triple, never a mix


def sign_delivery(provider: Provider, delivery: Delivery, creds: Credentials, *, now: float | None = None) -> Delivery:
    """Authenticate a delivery with every active scheme; each call takes a fresh timestamp."""
    if now is None:
        now = time.time()
    last = _LAST
    if last[0] is provider.auth.schemes and last[1] is creds:  # the same provider and credentials as last call
        return last[2].sign(provider, delivery, creds, now)
    schemes = _active(provider, creds)
    if len(schemes) == 1:
        _remember(provider.auth.schemes, creds, schemes[0])
        return schemes[0].sign(provider, delivery, creds, now)
    for scheme in schemes:
        delivery = scheme.sign(provider, delivery, creds, now)
    return delivery


def applicable_variants(provider: Provider, creds: Credentials) -> list[str]:
    """The negative variants that at least one active scheme can produce, in ``VARIANTS`` order."""
    found = {v for scheme in active_schemes(provider, creds) for v in scheme.variants(provider)}
    return [v for v in VARIANTS if v in found]


def forge_delivery(
    provider: Provider, delivery: Delivery, creds: Credentials, variant: str, *, now: float | None = None
) -> Delivery | None:
    """One negative variant: every other active scheme signs correctly, the first that can forge it does.

    ``missing`` strips every scheme's credentials. Returns None when no active scheme has the variant.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    now = time.time() if now is None else now
    schemes = active_schemes(provider, creds)
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
            return signed.replace(body=tamper(provider, delivery.body), label=variant)
        forged = scheme.forge(provider, out, creds, variant, now)
        if forged is None:
            continue
        for other in schemes[index + 1 :]:
            forged = other.sign(provider, forged, creds, now)
        return forged.replace(label=variant)
    return None
