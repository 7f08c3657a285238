"""Request authentication as each provider documents it, written independently of ``harness.signing``.

Every scheme reads the raw body bytes and compares in constant time. A scheme reports ``None`` when the request
passes, or a short reason when it does not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.errors import ConfigError
from harness.receiver._keys import OAUTH_SCHEME, load_public_key

__all__ = ["Scheme", "build_schemes"]

Headers = Mapping[str, str]


def _get(headers: Headers, name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _same(expected: bytes, given: bytes) -> bool:
    return hmac.compare_digest(expected, given)


def _unhex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text) if len(text) == 64 else None
    except ValueError:
        return None


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _int(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(text)


@dataclass(frozen=True)
class Scheme:
    """One configured auth scheme: which headers it reads and how it checks them."""

    name: str
    headers: tuple[str, ...]
    signs_body: bool
    check: Callable[[Headers, bytes], str | None]
    timestamp: Callable[[Headers], int | None] = lambda headers: None
    future_ok: bool = False

    def present(self, headers: Headers) -> bool:
        """Any of this scheme's headers is on the request."""
        return any(_get(headers, name) is not None for name in self.headers)

    def stale(self, headers: Headers, now: float, tolerance: float | None) -> str | None:
        """Why the signed timestamp is outside the tolerance window, if it is."""
        stamp = self.timestamp(headers)
        if tolerance is None or stamp is None:
            return None
        if now - stamp > tolerance:
            return "timestamp too old"
        if stamp - now > tolerance and not self.future_ok:
            return "timestamp in the future"
        return None


def _sendgrid(creds: Credentials) -> Scheme:
    assert creds.signing_key is not None
    public = load_public_key(creds.signing_key)
    sig_name, ts_name = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"

    def check(headers: Headers, body: bytes) -> str | None:
        signature, stamp = _get(headers, sig_name), _get(headers, ts_name)
        if not signature or not stamp:
            return "missing SendGrid signature or timestamp header"
        der = _unb64(signature)
        if der is None or _int(stamp) is None:
            return "malformed SendGrid signature or timestamp"
        try:
            public.verify(der, stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return "SendGrid signature does not verify"
        return None

    return Scheme("sendgrid-ecdsa", (sig_name, ts_name), True, check, lambda h: _int(_get(h, ts_name)))


def _teams(creds: Credentials) -> Scheme:
    assert creds.secret is not None
    key = _unb64(creds.secret)
    if key is None:
        raise ConfigError("The Teams security token must be base64 (as Teams shows it).")

    def check(headers: Headers, body: bytes) -> str | None:
        value = _get(headers, "Authorization") or ""
        scheme, _, given = value.partition(" ")
        if scheme != "HMAC" or not given:
            return "missing or malformed 'Authorization: HMAC' header"
        digest = _unb64(given)
        if digest is None or not _same(_hmac_sha256(key, body), digest):
            return "Teams HMAC does not match"
        return None

    return Scheme("teams-hmac", ("Authorization",), True, check)


def _hub(name: str, header: str) -> Callable[[Credentials], Scheme]:
    def build(creds: Credentials) -> Scheme:
        assert creds.secret is not None
        key = creds.secret.encode()

        def check(headers: Headers, body: bytes) -> str | None:
            value = _get(headers, header)
            if not value:
                return f"missing {header}"
            method, _, hexdigest = value.partition("=")
            given = _unhex(hexdigest)
            if method != "sha256" or given is None:
                return f"malformed {header}"
            return None if _same(_hmac_sha256(key, body), given) else f"{header} does not match"

        return Scheme(name, (header,), True, check)

    return build


def _stripe(creds: Credentials) -> Scheme:
    assert creds.secret is not None
    key = creds.secret.encode()

    def parts(headers: Headers) -> tuple[int | None, list[str]]:
        stamp: int | None = None
        signatures = []
        for item in (_get(headers, "Stripe-Signature") or "").split(","):
            label, _, value = item.strip().partition("=")
            if label == "t":
                stamp = _int(value)
            elif label == "v1":
                signatures.append(value)
        return stamp, signatures

    def check(headers: Headers, body: bytes) -> str | None:
        if not _get(headers, "Stripe-Signature"):
            return "missing Stripe-Signature"
        stamp, signatures = parts(headers)
        if stamp is None or not signatures:
            return "malformed Stripe-Signature"
        expected = _hmac_sha256(key, f"{stamp}.".encode() + body)
        if not any(_same(expected, given) for given in map(_unhex, signatures) if given is not None):
            return "no v1 signature matches"
        return None

    # stripe-python rejects only old timestamps; a clock ahead of ours is tolerated.
    return Scheme("stripe", ("Stripe-Signature",), True, check, lambda h: parts(h)[0], future_ok=True)


def _slack(creds: Credentials) -> Scheme:
    assert creds.secret is not None
    key = creds.secret.encode()
    sig_name, ts_name = "X-Slack-Signature", "X-Slack-Request-Timestamp"

    def check(headers: Headers, body: bytes) -> str | None:
        signature, stamp = _get(headers, sig_name), _get(headers, ts_name)
        if not signature or not stamp:
            return "missing Slack signature or timestamp header"
        version, _, hexdigest = signature.partition("=")
        given = _unhex(hexdigest)
        if version != "v0" or given is None or _int(stamp) is None:
            return "malformed Slack signature or timestamp"
        expected = _hmac_sha256(key, b"v0:" + stamp.encode() + b":" + body)
        return None if _same(expected, given) else "Slack signature does not match"

    return Scheme("slack", (sig_name, ts_name), True, check, lambda h: _int(_get(h, ts_name)))


def _shopify(creds: Credentials) -> Scheme:
    assert creds.secret is not None
    key = creds.secret.encode()

    def check(headers: Headers, body: bytes) -> str | None:
        value = _get(headers, "X-Shopify-Hmac-Sha256")
        if not value:
            return "missing X-Shopify-Hmac-Sha256"
        given = _unb64(value)
        if given is None or len(given) != 32:
            return "malformed X-Shopify-Hmac-Sha256"
        return None if _same(_hmac_sha256(key, body), given) else "Shopify HMAC does not match"

    return Scheme("shopify", ("X-Shopify-Hmac-Sha256",), True, check)


def _standard(creds: Credentials) -> Scheme:
    assert creds.secret is not None
    raw = creds.secret.removeprefix("whsec_")
    key = _unb64(raw)
    if key is None:
        raise ConfigError("A Standard Webhooks secret is 'whsec_' followed by base64.")

    def header(headers: Headers, suffix: str) -> str | None:
        value = _get(headers, f"webhook-{suffix}")
        return value if value is not None else _get(headers, f"svix-{suffix}")

    def check(headers: Headers, body: bytes) -> str | None:
        msg_id, stamp, signatures = header(headers, "id"), header(headers, "timestamp"), header(headers, "signature")
        if not msg_id or not stamp or not signatures:
            return "missing webhook-id, webhook-timestamp or webhook-signature"
        if _int(stamp) is None or "." in msg_id:
            return "malformed webhook-timestamp or webhook-id"
        expected = _hmac_sha256(key, f"{msg_id}.{stamp}.".encode() + body)
        for item in signatures.split(" "):
            version, _, value = item.partition(",")
            given = _unb64(value) if version == "v1" else None
            if given is not None and _same(expected, given):
                return None
        return "no v1 signature matches"

    names = ("webhook-signature", "webhook-timestamp", "svix-signature", "svix-timestamp")
    return Scheme("standard", names, True, check, lambda h: _int(header(h, "timestamp")))


def _basic(creds: Credentials) -> Scheme:
    assert creds.basic is not None
    expected = base64.b64encode(f"{creds.basic[0]}:{creds.basic[1]}".encode()).decode()

    def check(headers: Headers, body: bytes) -> str | None:
        scheme, _, given = (_get(headers, "Authorization") or "").partition(" ")
        if scheme.lower() != "basic" or not given:
            return "missing or malformed Basic credentials"
        return None if _same(expected.encode(), given.strip().encode()) else "wrong Basic credentials"

    return Scheme("basic", ("Authorization",), False, check)


def _bearer(token_ok: Callable[[str], bool], name: str) -> Scheme:
    def check(headers: Headers, body: bytes) -> str | None:
        scheme, _, token = (_get(headers, "Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token.strip():
            return "missing or malformed bearer token"
        return None if token_ok(token.strip()) else "unknown or expired bearer token"

    return Scheme(name, ("Authorization",), False, check)


def _static_token(expected: str) -> Callable[[str], bool]:
    return lambda token: _same(expected.encode(), token.encode("utf-8", "surrogatepass"))


_BUILDERS: dict[str, Callable[[Credentials], Scheme]] = {
    "sendgrid-ecdsa": _sendgrid,
    "teams-hmac": _teams,
    "jira": _hub("jira", "X-Hub-Signature"),
    "github": _hub("github", "X-Hub-Signature-256"),
    "stripe": _stripe,
    "slack": _slack,
    "shopify": _shopify,
    "standard": _standard,
    "basic": _basic,
}


def _configured(scheme: str, creds: Credentials) -> bool:
    if scheme == "sendgrid-ecdsa":
        return bool(creds.signing_key)
    if scheme == OAUTH_SCHEME:
        return bool(creds.client_id and creds.client_secret)
    if scheme == "basic":
        return creds.basic is not None
    if scheme == "bearer":
        return bool(creds.bearer)
    return bool(creds.secret)


def build_schemes(provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> list[Scheme]:
    """The provider's schemes that the credentials configure; a request must pass every one."""
    out: list[Scheme] = []
    for name in provider.auth.schemes:
        if not _configured(name, creds):
            continue
        if name == OAUTH_SCHEME:
            out.append(_bearer(token_ok, name))
        elif name == "bearer":
            out.append(_bearer(_static_token(creds.bearer or ""), name))
        elif name in _BUILDERS:
            out.append(_BUILDERS[name](creds))
        else:
            raise ConfigError(f"The reference receiver cannot verify the auth scheme {name!r} of {provider.id!r}.")
    if not out:
        wanted = ", ".join(provider.auth.schemes)
        raise ConfigError(f"No credentials for any auth scheme of {provider.id!r} ({wanted}); refusing to run open.")
    return out
