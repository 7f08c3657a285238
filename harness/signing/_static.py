"""Credentials sent as they are: HTTP Basic (OCI through URL user-info) and a static bearer token."""

from __future__ import annotations

import secrets
from dataclasses import replace

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme

__all__ = ["Basic", "Bearer"]


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
