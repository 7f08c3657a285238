"""Credentials sent as they are: HTTP Basic (OCI through URL user-info), a static bearer token, an OAuth token."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme, signature_fuzz
from harness.signing._verifier import Headers, Verifier, get_header
from harness.signing.oauth import OAuthClientCredentials

__all__ = ["Basic", "Bearer", "OAuth", "StaticAuthorization"]


def _no_dash(size: int) -> str:
    """A random token that does not start with '-', so it pastes into any command line as an option value."""
    value = secrets.token_urlsafe(size)
    while value.startswith("-"):
        value = secrets.token_urlsafe(size)
    return value


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def _bearer_verifier(name: str, token_ok: Callable[[str], bool]) -> Verifier:
    def check(headers: Headers, body: bytes) -> str | None:
        scheme, _, token = (get_header(headers, "Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token.strip():
            return "missing or malformed bearer token"
        return None if token_ok(token.strip()) else "unknown or expired bearer token"

    return Verifier(name, ("Authorization",), False, check)


class Basic(SigningScheme):
    """HTTP Basic; OCI Notifications puts it in the URL's user-info, which becomes the Authorization header."""

    name = "basic"
    headers = ("Authorization",)
    signs_body = False
    secret_field = "basic"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Carry the credentials as URL user-info."""
        return delivery.replace(url_userinfo=creds.basic)

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """Missing, wrong password, or a malformed Authorization header."""
        if variant == "missing":
            return delivery.replace(url_userinfo=None).without_headers(["Authorization"])
        if variant == "wrong-key" and creds.basic:
            return delivery.replace(url_userinfo=(creds.basic[0], secrets.token_urlsafe(12)))
        if variant == "malformed-header":
            return delivery.replace(url_userinfo=None).with_headers({"Authorization": "Basic %%%not-base64"})
        return None

    def fuzz_base(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """A wrong password in the Authorization header itself (no user-info to rebuild it)."""
        user = creds.basic[0] if creds.basic else "harness"
        token = base64.b64encode(f"{user}:{secrets.token_urlsafe(12)}".encode()).decode()
        return delivery.replace(url_userinfo=None).with_headers({"Authorization": f"Basic {token}"})

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Compare the Authorization header with the expected user and password."""
        user, password = creds.basic or ("", "")
        expected = base64.b64encode(f"{user}:{password}".encode()).decode()

        def check(headers: Headers, body: bytes) -> str | None:
            scheme, _, given = (get_header(headers, "Authorization") or "").partition(" ")
            if scheme.lower() != "basic" or not given:
                return "missing or malformed Basic credentials"
            return None if _same(expected, given.strip()) else "wrong Basic credentials"

        return Verifier(self.name, self.headers, False, check)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A fixed user and a random password."""
        return Credentials(basic=("harness", _no_dash(18)))


class Bearer(SigningScheme):
    """A static ``Authorization: Bearer <token>``."""

    name = "bearer"
    headers = ("Authorization",)
    signs_body = False
    secret_field = "bearer"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add the token."""
        return self._set_headers(delivery, {"Authorization": f"Bearer {creds.bearer}"})

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another token."""
        return replace(creds, bearer=secrets.token_urlsafe(24))

    def malformed(self, delivery: Delivery) -> Delivery:
        """A bearer header without a token."""
        return delivery.with_headers({"Authorization": "Bearer"})

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Accept exactly the configured token."""
        expected = creds.bearer or ""
        return _bearer_verifier(self.name, lambda token: _same(expected, token))

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A random token."""
        return Credentials(bearer=_no_dash(32))


class StaticAuthorization(SigningScheme):
    """A static value sent as it is, with no scheme word, in ``Authorization`` or the header the profile names
    (``auth.static.header``): Okta event hooks' header auth."""

    name = "static-authorization"
    headers = ("Authorization",)
    signs_body = False
    secret_field = "secret"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add the configured value."""
        return delivery.with_headers({provider.auth.static_header: creds.secret or ""})

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """Missing, another value, a mangled value."""
        return ("missing", "wrong-key", "malformed-header")

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """The header left out, another value, or the right value cut and spoiled."""
        header = provider.auth.static_header
        if variant == "missing":
            return delivery.without_headers([header])
        if variant == "wrong-key":
            return self.sign(provider, delivery, self.wrong_credentials(creds), now)
        if variant == "malformed-header":
            value = creds.secret or ""
            return delivery.with_headers({header: value[: max(1, len(value) // 3)] + "!!not-a-signature"})
        return None

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """A stranger's value, mangled as a fuzzer would."""
        header = provider.auth.static_header
        base = self.sign(provider, delivery, self.wrong_credentials(creds), now)
        value = base.header(header) or ""
        return [
            base.with_headers({header: mangled}).replace(label=f"fuzzed {header}: {label}")
            for label, mangled in signature_fuzz(value, self.version_tag(value))
        ]

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another value."""
        return replace(creds, secret=_no_dash(24))

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Accept exactly the configured value in the configured header."""
        expected, header = creds.secret or "", provider.auth.static_header

        def check(headers: Headers, body: bytes) -> str | None:
            given = get_header(headers, header)
            if not given:
                return f"missing {header}"
            return None if _same(expected, given) else f"wrong {header} value"

        return Verifier(self.name, (header,), False, check)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A random value."""
        return Credentials(secret=_no_dash(32))


class OAuth(OAuthClientCredentials):
    """The OAuth client-credentials scheme with its receiver side: tokens the receiver's own issuer handed out."""

    def fuzz_base(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """A token no issuer handed out."""
        return self._set_headers(delivery, {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"})

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Accept a bearer token the issuer recognises as live."""
        return _bearer_verifier(self.name, token_ok)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A client id and secret for the receiver's token endpoint."""
        return Credentials(
            token_url=token_url,
            client_id="webhook-harness-" + secrets.token_hex(4),
            client_secret=_no_dash(24),
            oauth_credentials_in=provider.auth.oauth_credentials_in,
        )
