"""OIDC bearer tokens as Google Cloud Pub/Sub push sends them: ``Authorization: Bearer <JWT>``, RS256.

The harness is the issuer: it mints each token with its own RSA key (``--signing-key``) and publishes the public half
as a JWKS, as Google's X.509 certificate map and in a discovery document (``jwks``). A receiver must check the
signature (RS256 only), the issuer, the audience, the expiry and the service account's email.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.catalog import OidcSpec, Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.errors import ConfigError
from harness.signing._base import SigningScheme
from harness.signing._verifier import Headers, Verifier, get_header, signing_url
from harness.signing.keys import new_rsa_key, rsa_pem, rsa_private_key

__all__ = ["CLAIM_FORGERIES", "OidcToken", "b64url", "key_id", "mint"]

CLAIM_FORGERIES = ("wrong-audience", "wrong-issuer", "wrong-email", "alg-none", "unsigned")
SKEW = 60  # seconds of clock skew a receiver allows on iat and exp (google-auth's default is 0, PyJWT's leeway 0)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def key_id(key: rsa.RSAPublicKey) -> str:
    """A stable key id: 40 hex digits of the public key's SHA-256 (Google's kids are 40 hex digits)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:40]


def _segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def mint(key: rsa.RSAPrivateKey | None, claims: Mapping[str, Any], *, alg: str = "RS256") -> str:
    """A compact JWT: RS256 signed with ``key``, or (``alg: none``) with an empty signature."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if key is not None:
        header["kid"] = key_id(key.public_key())
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    if key is None or alg == "none":
        return signing_input + "."
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


@lru_cache(maxsize=1)
def _stranger() -> str:
    """Another RSA key (PEM text, in memory only) for the signed-by-another-key forgery."""
    return rsa_pem(new_rsa_key())


def _spec(provider: Provider) -> OidcSpec:
    spec = provider.auth.oidc
    if spec is None:
        raise ConfigError(f"{provider.id} names the oidc-token scheme but its profile has no auth.oidc block.")
    return spec


def _subject(email: str) -> str:
    """A numeric subject derived from the email (Google's are 21-digit numbers)."""
    return str(int(hashlib.sha256(email.encode()).hexdigest()[:17], 16)).rjust(21, "1")[:21]


class OidcToken(SigningScheme):
    """An RS256 OIDC token per request, its claims as the profile's ``auth.oidc`` block says."""

    name = "oidc-token"
    headers = ("Authorization",)
    signs_body = False
    needs_url = True  # the default audience is the push endpoint
    secret_field = "signing_key"
    lax_steps = frozenset({"signature", "audience"})

    def claims(self, provider: Provider, url: str, now: float, **changes: Any) -> dict[str, Any]:
        """The claim set Pub/Sub sends, with ``changes`` applied."""
        spec = _spec(provider)
        if not spec.audience and not url:
            raise ConfigError(
                f"{provider.id}'s token audience is the URL each request is posted to, and no URL was given (url=); "
                "or set auth.oidc.audience."
            )
        claims: dict[str, Any] = {
            "aud": spec.audience or signing_url(url),
            "azp": _subject(spec.email),
            "email": spec.email,
            "email_verified": True,
            "exp": int(now) + int(spec.lifetime),
            "iat": int(now),
            "iss": spec.issuer,
            "sub": _subject(spec.email),
        }
        claims.update(changes)
        return claims

    def _token(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float, **changes: Any) -> str:
        return mint(rsa_private_key(creds.signing_key or ""), self.claims(provider, delivery.url, now, **changes))

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add a fresh bearer token."""
        token = self._token(provider, delivery, creds, now)
        return self._set_headers(delivery, {"Authorization": f"Bearer {token}"})

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """Missing, another key, malformed, expired, and each claim a receiver must check."""
        return ("missing", "wrong-key", "malformed-header", "expired-token", *CLAIM_FORGERIES)

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """One forged token; the claim forgeries are signed with the right key, so only the claims are wrong."""
        spec = _spec(provider)
        token: str | None = None
        if variant == "expired-token":
            token = self._token(provider, delivery, creds, now, exp=int(now) - 2 * SKEW - 600, iat=int(now) - 4000)
        elif variant == "wrong-audience":
            token = self._token(provider, delivery, creds, now, aud="https://attacker.example/push")
        elif variant == "wrong-issuer":
            token = self._token(provider, delivery, creds, now, iss="https://issuer.attacker.example")
        elif variant == "wrong-email":
            token = self._token(provider, delivery, creds, now, email="attacker@" + spec.email.partition("@")[2])
        elif variant == "alg-none":
            token = mint(None, self.claims(provider, delivery.url, now), alg="none")
        elif variant == "unsigned":
            token = self._token(provider, delivery, creds, now).rpartition(".")[0] + "."
        if token is not None:
            return self._set_headers(delivery, {"Authorization": f"Bearer {token}"})
        return super().forge(provider, delivery, creds, variant, now)

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another RSA key."""
        return replace(creds, signing_key=_stranger())

    def malformed(self, delivery: Delivery) -> Delivery:
        """A bearer value that is not a JWT."""
        return delivery.with_headers({"Authorization": "Bearer not.a-jwt"})

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """Tokens a fuzzer would try: bad segments, a header that is not JSON, an HS256 token keyed with the JWKS."""
        base = self.fuzz_base(provider, delivery, creds, now)
        token = (base.header("Authorization") or "").removeprefix("Bearer ")
        head, claims, _ = token.split(".")
        header_json = _segment({"alg": "HS256", "typ": "JWT"})
        out = [
            ("two segments", f"Bearer {head}.{claims}"),
            ("four segments", f"Bearer {token}.x"),
            ("header not JSON", f"Bearer {b64url(b'{nope')}.{claims}.x"),
            ("header not base64url", f"Bearer %%%.{claims}.x"),
            ("alg HS256 (key confusion)", f"Bearer {header_json}.{claims}.{b64url(b'x' * 32)}"),
            ("scheme Basic", f"Basic {token}"),
            ("no scheme", token),
            ("empty Authorization", ""),
            ("8 KiB token", f"Bearer {token}{'A' * 8192}"),
        ]
        return [
            base.with_headers({"Authorization": value}).replace(label=f"fuzzed Authorization: {label}")
            for label, value in out
        ]

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Check the token as google-auth does, with the public key only."""
        return self.lax_verifier(provider, creds, frozenset())

    def lax_verifier(self, provider: Provider, creds: Credentials, skip: frozenset[str]) -> Verifier:
        """The check, leaving out the ``skip`` steps (``signature``, ``audience``): the reference receiver's bugs."""
        public = rsa_private_key(creds.signing_key or "").public_key()
        spec = _spec(provider)
        clock: Callable[[], float] = time.time

        def check_url(headers: Headers, body: bytes, url: str) -> str | None:
            scheme, _, token = (get_header(headers, "Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return "missing or malformed bearer token"
            claims = verify_token(token.strip(), public, skip_signature="signature" in skip)
            if isinstance(claims, str):
                return claims
            return _claims_problem(claims, spec, spec.audience or signing_url(url), clock(), skip)

        return Verifier(self.name, self.headers, False, lambda h, b: check_url(h, b, ""), check_url=check_url)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A new 2048-bit RSA key, as PEM text."""
        return Credentials(signing_key=rsa_pem(new_rsa_key()))


def verify_token(token: str, public: rsa.RSAPublicKey, *, skip_signature: bool = False) -> dict[str, Any] | str:
    """The claims of an RS256 token signed by ``public``, or why it fails (alg pinned: ``none`` never passes)."""
    parts = token.split(".")
    if len(parts) != 3:
        return "malformed token"
    raw_header, raw_claims, raw_signature = (_unb64url(p) for p in parts)
    try:
        header = json.loads(raw_header or b"")
        claims = json.loads(raw_claims or b"")
    except (ValueError, UnicodeDecodeError):
        return "malformed token"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "malformed token"
    if skip_signature:
        return claims
    if header.get("alg") != "RS256" or not raw_signature:
        return "token is not RS256-signed"
    try:
        public.verify(raw_signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "token signature does not verify"
    return claims


def _claims_problem(
    claims: Mapping[str, Any], spec: OidcSpec, audience: str, now: float, skip: frozenset[str]
) -> str | None:
    """Why the claims are not what the push subscription sends, or None."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        return "token without exp or iat"
    if now > exp + SKEW:
        return "token expired"
    if iat > now + SKEW:
        return "token issued in the future"
    if claims.get("iss") != spec.issuer:
        return "wrong issuer"
    if "audience" not in skip and claims.get("aud") != audience:
        return "wrong audience"
    if claims.get("email") != spec.email or claims.get("email_verified") is not True:
        return "not the push subscription's service account"
    return None


def jwks(creds: Credentials) -> dict[str, Any]:
    """The JWKS that publishes the signing key's public half (RFC 7517)."""
    public = rsa_private_key(creds.signing_key or "").public_key()
    numbers = public.public_numbers()

    def uint(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {
        "keys": [
            {
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": key_id(public),
                "n": uint(numbers.n),
                "e": uint(numbers.e),
            }
        ]
    }
