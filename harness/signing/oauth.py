"""OAuth 2.0 client credentials, with the harness as the client (as SendGrid is): fetch, cache, refresh."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.core.text import printable
from harness.credentials import Credentials, Redactor
from harness.errors import TokenError
from harness.net.fetch import bounded_session, fetch_answer
from harness.net.options import NetworkOptions
from harness.signing._base import SigningScheme

__all__ = ["OAuthClientCredentials", "TokenClient", "TokenClients", "token_client_for"]

_EXPIRY_MARGIN = 30.0  # refresh this many seconds before expires_in runs out
MAX_TOKEN_RESPONSE = 64 * 1024  # a token response is a few hundred bytes; anything past this is not one
_TOKEN_FIELD = re.compile(r'(?i)("(?:access|refresh|id)_token"\s*:\s*")[^"]*(")')


class TokenClient:
    """Fetches a client-credentials token and reuses it until ``expires_in`` (minus a margin) has passed."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        credentials_in: str = "basic",
        scope: str | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        network: NetworkOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.credentials_in = credentials_in
        self.scope = scope
        self.network = network or NetworkOptions()
        self._session = session or bounded_session(self.network)
        self._clock = clock
        self._timeout = timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._expired: list[str] = []
        self._lock = threading.Lock()
        self._on_token = on_token
        self.fetches = 0

    def token(self) -> str:
        """A valid access token, from the cache or freshly fetched."""
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at:
                if self._token is not None:
                    self._expired.append(self._token)
                self._token, lifetime = self._fetch()
                self._expires_at = now + max(0.0, lifetime - min(_EXPIRY_MARGIN, lifetime / 10))
            return self._token

    def expired_token(self) -> str | None:
        """A token this client saw expire, if any."""
        return self._expired[-1] if self._expired else None

    def _fetch(self) -> tuple[str, float]:
        redact = Redactor([self._secret])
        data: dict[str, str] = {"grant_type": "client_credentials"}
        auth: tuple[str, str] | None = None
        if self.credentials_in == "form":
            data.update(client_id=self.client_id, client_secret=self._secret)
        else:
            auth = (self.client_id, self._secret)
        if self.scope:
            data["scope"] = self.scope
        where = f"token endpoint {printable(Redactor()(self.token_url), newlines=False)}"
        response = fetch_answer(
            TokenError,
            where,
            self._session,
            "POST",
            self.token_url,
            timeout=self._timeout,
            max_body=MAX_TOKEN_RESPONSE,
            network=self.network,
            data=data,
            auth=auth,
        )
        self.fetches += 1
        if response.truncated:
            raise TokenError(f"The {where} answered more than {MAX_TOKEN_RESPONSE // 1024} KiB; not a token response.")
        text = response.body.decode("utf-8", "replace")
        excerpt = printable(redact(_TOKEN_FIELD.sub(r"\1***\2", text)[:120]), newlines=False)
        if response.error:
            raise TokenError(f"The {where} broke off its answer ({response.error}).")
        if response.status != 200:
            raise TokenError(f"The {where} answered HTTP {response.status}: {excerpt!r}.")
        try:
            body: Any = json.loads(text)
        except (ValueError, RecursionError):
            raise TokenError(f"The {where} answered HTTP 200 with a body that is not JSON: {excerpt!r}.") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if isinstance(token, str) and token:
            if self._on_token is not None:
                self._on_token(token)  # a receiver may echo it: the session's redactor must hide it
        if not isinstance(token, str) or not token:
            raise TokenError(f"The {where} answered without an access_token: {excerpt!r}.")
        if not token.isascii() or not token.isprintable():
            raise TokenError(f"The {where} issued an access_token that cannot go in an HTTP header.")
        kind = str(body.get("token_type", "bearer")).lower()
        if kind != "bearer":
            shown = printable(redact(kind[:40]), newlines=False)
            raise TokenError(f"The {where} issued a {shown!r} token; only bearer tokens are supported.")
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError, OverflowError):
            raise TokenError(f"The {where} answered an expires_in that is not a number: {excerpt!r}.") from None
        if not 0 <= lifetime < float("inf"):
            raise TokenError(f"The {where} answered an expires_in that is not a positive number: {excerpt!r}.")
        return token, lifetime


class TokenClients:
    """One session's token clients: one per token URL, client, secret and placement, all with its network options."""

    def __init__(self, network: NetworkOptions | None = None, *, on_token: Callable[[str], None] | None = None) -> None:
        self.network = network or NetworkOptions()
        self._on_token = on_token
        self._clients: dict[tuple[str, ...], TokenClient] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (for a sender process) as empty clients with the same network: each process fetches its own."""
        return (TokenClients, (self.network,))

    def client_for(self, creds: Credentials, provider: Provider | None = None) -> TokenClient:
        """The token client for these credentials, made on first use."""
        placement = creds.oauth_credentials_in or (provider.auth.oauth_credentials_in if provider else "basic")
        scope = provider.auth.oauth_scope if provider else None
        secret_digest = hashlib.sha256((creds.client_secret or "").encode()).hexdigest()
        key = (creds.token_url or "", creds.client_id or "", secret_digest, placement, scope or "")
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = TokenClient(
                    creds.token_url or "",
                    creds.client_id or "",
                    creds.client_secret or "",
                    credentials_in=placement,
                    scope=scope,
                    network=self.network,
                    on_token=self._on_token,
                )
                self._clients[key] = client
            return client


def token_client_for(creds: Credentials, provider: Provider | None = None) -> TokenClient:
    """The token client of the session these credentials belong to (``Session.credentials``).

    Credentials made outside a session get token clients of their own (default network options) on first use, kept
    with that ``Credentials`` object, so nothing is shared between callers.
    """
    clients = creds.tokens
    if not isinstance(clients, TokenClients):
        clients = TokenClients()
        object.__setattr__(creds, "tokens", clients)  # a cache that travels with this frozen value, not a setting
    return clients.client_for(creds, provider)


class OAuthClientCredentials(SigningScheme):
    """``Authorization: Bearer <token>`` with a token from the client-credentials grant."""

    name = "oauth2-client-credentials"
    headers = ("Authorization",)
    signs_body = False
    secret_field = "client_secret"  # for messages: configured() needs the token URL and client id too

    def configured(self, creds: Credentials) -> bool:
        """A token URL and a client id are given."""
        return creds.has_oauth

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add a (cached) bearer token."""
        return self._set_headers(delivery, {"Authorization": f"Bearer {token_client_for(creds, provider).token()}"})

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """Missing, a wrong token, a malformed header, an expired token."""
        return ("missing", "wrong-key", "malformed-header", "expired-token")

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """Negative forms of the bearer header."""
        if variant == "missing":
            return delivery.without_headers(["Authorization"])
        if variant == "wrong-key":
            return delivery.with_headers({"Authorization": f"Bearer {secrets.token_urlsafe(32)}"})
        if variant == "malformed-header":
            return delivery.with_headers({"Authorization": "Bearer"})
        if variant == "expired-token":
            # A token this client saw expire; otherwise one of the same shape that was never issued or was revoked:
            # without the server's help an expired token and a revoked one look the same to the receiver.
            old = token_client_for(creds, provider).expired_token() or secrets.token_urlsafe(32)
            return delivery.with_headers({"Authorization": f"Bearer {old}"})
        return None
