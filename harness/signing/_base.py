"""What a signing scheme is: it signs one delivery and forges its negative variants."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._verifier import Verifier

__all__ = ["VARIANTS", "SigningScheme", "signature_fuzz", "tamper", "timestamp_fuzz"]

VARIANTS = (
    "missing",
    "wrong-key",
    "tampered-body",
    "stale-timestamp",
    "malformed-header",
    "expired-token",
    # OIDC tokens (oidc-token): validly signed with the wrong claims, or not signed at all
    "wrong-audience",
    "wrong-issuer",
    "wrong-email",
    "alg-none",
    "unsigned",
    "foreign-cert-url",  # AWS SNS: a certificate URL on a host that is not the provider's (must not be fetched)
)
_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9]*)([=, ])")
FUZZ_LONG = 8192  # the "8 KiB long" signature: past many servers' header line limit, which must answer 4xx


def timestamp_fuzz(stamp: str) -> list[tuple[str, str]]:
    """What a fuzzer puts in a timestamp: non-numeric, empty, negative, huge and float (label, value)."""
    return [
        ("non-numeric timestamp", "yesterday"),
        ("empty timestamp", ""),
        ("negative timestamp", "-" + (stamp or "1")),
        ("huge timestamp", "9" * 40),
        ("float timestamp", (stamp or "1") + ".5"),
    ]


def signature_fuzz(value: str, tag: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """What a fuzzer does to a signature header value (``tag``: its version prefix and separator, e.g. v1 and =).

    Every result is still a forgery: ``value`` itself carries no valid signature.
    """
    if tag is not None and tag[0] + tag[1] in value:
        unknown = value.replace(tag[0] + tag[1], "v999" + tag[1], 1)
    else:
        unknown = "v999=" + value
    half = len(value) // 2
    out = [
        ("signature header without '='", value.replace("=", "") if "=" in value else value.replace(",", "")),
        ("unknown version prefix", unknown),
        ("extra commas and spaces", f",{value},, , "),
        ("non-ASCII characters", value[:half] + "\u00e9\u00ff" + value[half:]),
        ("signature duplicated", f"{value}, {value}"),
        ("empty signature header", ""),
        ("8 KiB signature header", value + "A" * FUZZ_LONG),
    ]
    if value.endswith("="):
        out.insert(1, ("base64 padding removed", value.rstrip("=")))
    return out


class SigningScheme:
    """A provider's way of authenticating a delivery: its signer, its negative variants and its verifier.

    Subclasses set ``name`` and ``headers`` (as class or instance attributes) and implement ``sign``,
    ``verifier`` and ``fresh_credentials``.
    """

    name: str = ""
    headers: tuple[str, ...] = ()
    timestamped: bool = False
    signs_body: bool = True
    needs_url: bool = False  # the signature covers the target URL (``Delivery.url``)
    secret_field: str = "secret"
    lax_steps: frozenset[str] = frozenset()  # verification steps a buggy receiver can leave out (lax_verifier)
    auth_in_body: bool = False  # the credentials travel inside the JSON body (Mailgun's signature object)
    _lowered_names: frozenset[str] | None = None
    _clean: object = None

    def _set_headers(self, delivery: Delivery, updates: Mapping[str, str], timestamp: int | None = None) -> Delivery:
        """The delivery with these headers set (an existing one in another case is replaced)."""
        headers = delivery.headers
        lowered = self._lowered_names
        if lowered is None:
            lowered = self._lowered_names = frozenset(name.lower() for name in self.headers)
        # The common case, a plain copy: none of our headers is there in any case. Re-signing the same delivery (a
        # retry, or a benchmark) skips the scan: a delivery's headers mapping is never changed in place.
        if headers is self._clean or (lowered.isdisjoint(map(str.lower, headers)) and self._remember_clean(headers)):
            if timestamp is None:
                return delivery.replace(headers={**headers, **updates})
            return delivery.replace(headers={**headers, **updates}, timestamp=timestamp)
        if timestamp is None:
            return delivery.with_headers(updates)
        return delivery.with_headers(updates, timestamp=timestamp)

    def _remember_clean(self, headers: object) -> bool:
        self._clean = headers
        return True

    def configured(self, creds: Credentials) -> bool:
        """The credentials hold what this scheme needs."""
        return bool(getattr(creds, self.secret_field))

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add this scheme's auth headers for the delivery's exact body bytes."""
        raise NotImplementedError

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """How a receiver holding these credentials checks this scheme (``token_ok`` judges issued tokens)."""
        raise NotImplementedError

    def lax_verifier(self, provider: Provider, creds: Credentials, skip: frozenset[str]) -> Verifier:
        """The verifier without the ``skip`` steps (of ``lax_steps``): what the reference receiver's bugs run."""
        return self.verifier(provider, creds, lambda token: False)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """New random credentials of this scheme's form, for a reference receiver (key files go in ``folder``)."""
        raise NotImplementedError

    def tampered(self, provider: Provider, signed: Delivery, original: bytes) -> Delivery:
        """The signed delivery with its body changed under the signature (``original``: the body before signing)."""
        return signed.replace(body=tamper(provider, original))

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Credentials of the same shape with a different key."""
        from dataclasses import replace

        return replace(creds, secret=_like(creds.secret or ""))

    def malformed(self, delivery: Delivery) -> Delivery:
        """The auth header present but syntactically wrong."""
        name = self.headers[0]
        value = delivery.header(name) or ""
        return delivery.with_headers({name: value[: max(1, len(value) // 3)] + "!!not-a-signature"})

    @property
    def extra_keys_supported(self) -> bool:
        """A delivery can carry one signature per active key, as while a key rotates (``sign_rotated`` adds them)."""
        return False

    def rotation_key(self, creds: Credentials) -> str:
        """A key that is not the receiver's, in the scheme's form, for the rotation check."""
        return str(getattr(self.wrong_credentials(creds), self.secret_field) or "")

    def sign_rotated(
        self,
        provider: Provider,
        delivery: Delivery,
        creds: Credentials,
        now: float,
        *,
        extra_keys: Sequence[str],
        extra_first: bool = True,
    ) -> Delivery:
        """Sign as usual, then add one signature per ``extra_keys`` entry before or after ours, as during a roll."""
        signed = self.sign(provider, delivery, creds, now)
        return self._add_signatures(provider, signed, creds, now, (extra_keys, extra_first)) if extra_keys else signed

    def _add_signatures(
        self, provider: Provider, signed: Delivery, creds: Credentials, now: float, extra: tuple[Sequence[str], bool]
    ) -> Delivery:
        """The signed delivery with a signature by each extra key, before ours or after (``extra``); unchanged
        where the scheme carries one signature (``extra_keys_supported`` is False)."""
        return signed

    @property
    def signature_headers(self) -> tuple[str, ...]:
        """The headers that carry a signature or credential (a fuzzer mangles each)."""
        return self.headers[:1]

    @property
    def timestamp_header(self) -> str | None:
        """The header that carries a signed timestamp on its own, if any."""
        return None

    def version_tag(self, value: str) -> tuple[str, str] | None:
        """The version prefix and its separator in a signature header value (``v1`` and ``=``), if it has one."""
        match = _TAG.match(value)
        return (match.group(1), match.group(2)) if match else None

    def fuzz_base(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """The delivery signed with a stranger's key: what every fuzzed forgery starts from."""
        return self.sign(provider, delivery, self.wrong_credentials(creds), now)

    def with_timestamp(self, delivery: Delivery, stamp: str) -> Delivery | None:
        """The delivery with its signed timestamp text replaced, or None when the scheme has none."""
        if self.timestamp_header is None:
            return None
        return delivery.with_headers({self.timestamp_header: stamp})

    def stamp_text(self, delivery: Delivery) -> str:
        """The signed timestamp as the delivery carries it."""
        return (delivery.header(self.timestamp_header) or "") if self.timestamp_header else str(delivery.timestamp)

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """Forgeries a fuzzer would try: malformed timestamps and signature headers, none carrying a valid signature.

        A scheme with several signatures derived from one secret forges them all: the base is signed with a
        stranger's key, then one header at a time is mangled.
        """
        base = self.fuzz_base(provider, delivery, creds, now)
        out = []
        if self.timestamped:
            for label, stamp in timestamp_fuzz(self.stamp_text(base)):
                forged = self.with_timestamp(base, stamp)
                if forged is not None:
                    where = self.timestamp_header or self.signature_headers[0]
                    out.append(forged.replace(label=f"fuzzed {where}: {label}"))
        for name in self.signature_headers:
            value = base.header(name) or ""
            for label, mangled in signature_fuzz(value, self.version_tag(value)):
                out.append(base.with_headers({name: mangled}).replace(label=f"fuzzed {name}: {label}"))
        return out

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """The negative variants that make sense for this scheme on this provider."""
        out = ["missing", "wrong-key", "malformed-header"]
        if self.signs_body:
            out.append("tampered-body")
        if self.timestamped and provider.auth.tolerance is not None:
            out.append("stale-timestamp")
        return tuple(out)

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """One negative variant of the signed delivery, or None when it does not apply."""
        if variant not in self.variants(provider):
            return None
        if variant == "missing":
            return delivery.without_headers(self.headers)
        if variant == "wrong-key":
            return self.sign(provider, delivery, self.wrong_credentials(creds), now)
        if variant == "malformed-header":
            return self.malformed(self.sign(provider, delivery, creds, now))
        if variant == "tampered-body":
            signed = self.sign(provider, delivery, creds, now)
            return signed.replace(body=tamper(provider, delivery.body), label="tampered-body")
        if variant == "stale-timestamp":
            assert provider.auth.tolerance is not None
            return self.sign(provider, delivery, creds, now - provider.auth.tolerance - 600)
        return None


def _like(secret: str) -> str:
    """A random secret in the same form: whsec_ prefix and base64 kept, so only the key is wrong."""
    if secret.startswith("whsec_"):
        import base64

        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        import base64
        import binascii

        if len(base64.b64decode(secret, validate=True)) >= 16:
            return base64.b64encode(secrets.token_bytes(32)).decode()
    except (binascii.Error, ValueError):
        pass
    return secrets.token_urlsafe(max(16, len(secret)))


def tamper(provider: Provider, body: bytes) -> bytes:
    """The same body with a field added at its end: still valid for its schema, same first bytes, other signature.

    A receiver that verifies only a prefix, or trusts a signature it has seen before, accepts it.
    """
    if provider.body.format == "form":  # one more parameter at the end: still a form, same first bytes
        try:
            fields = provider.decode(body)
        except ValueError:
            return body + b"&x_harness_tampered=true"
        return provider.encode({**fields, "x_harness_tampered": "true"})
    try:
        value: Any = json.loads(body)
    except ValueError:
        return body[:-1] + (b"X" if body[-1:] != b"X" else b"Y") if body else b"X"
    target = value[-1] if isinstance(value, list) and value else value
    if isinstance(target, dict):
        target["x_harness_tampered"] = True
        out = provider.encode(value)
    else:
        out = provider.encode(_change_last(value))
    return out if out != body else body + b" "


def _change_last(value: Any) -> Any:
    if isinstance(value, dict) and value:
        key = list(value)[-1]
        return {**value, key: _change_last(value[key])}
    if isinstance(value, list) and value:
        return [*value[:-1], _change_last(value[-1])]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x" if not value.endswith("x") else value[:-1] + "y"
    return "tampered"
