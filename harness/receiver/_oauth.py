"""An ORDS-style OAuth2 client-credentials token endpoint and the bearer tokens it issues."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import unquote_plus

from aiohttp import web

__all__ = ["MAX_TOKENS", "TOKEN_LIFETIME", "TokenIssuer", "token_path"]

TOKEN_LIFETIME = 3600.0
MAX_TOKENS = 10_000  # live tokens kept; past it the oldest is forgotten (a client fetching in a loop stays bounded)


def token_path(schema: str = "webhook") -> str:
    """The token endpoint's path, as Oracle REST Data Services lays it out."""
    return f"/ords/{schema}/oauth/token"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenIssuer:
    """Issues bearer tokens to one client and recognises them until they expire."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float],
        lifetime: float = TOKEN_LIFETIME,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self._client = (client_id.encode(), client_secret.encode())
        self._clock = clock
        self._lifetime = lifetime
        self._max = max_tokens
        self._tokens: OrderedDict[str, float] = OrderedDict()  # digest -> expiry, oldest first
        self._lock = threading.Lock()

    @property
    def live(self) -> int:
        """How many tokens are kept."""
        return len(self._tokens)

    def issue(self) -> str:
        """A fresh token, valid for the lifetime; expired and surplus tokens go first (amortised O(1))."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            while self._tokens and (len(self._tokens) >= self._max or next(iter(self._tokens.values())) <= now):
                self._tokens.popitem(last=False)
            self._tokens[_digest(token)] = now + self._lifetime
        return token

    def valid(self, token: str) -> bool:
        """The token was issued here and has not expired."""
        with self._lock:
            expires = self._tokens.get(_digest(token))
        return expires is not None and expires > self._clock()

    def client_ok(self, client_id: str, client_secret: str) -> bool:
        """The client credentials match, compared in constant time."""
        id_ok = hmac.compare_digest(self._client[0], client_id.encode("utf-8", "surrogatepass"))
        secret_ok = hmac.compare_digest(self._client[1], client_secret.encode("utf-8", "surrogatepass"))
        return id_ok and secret_ok

    async def handle(self, request: web.Request) -> web.Response:
        """POST grant_type=client_credentials with HTTP Basic or form client credentials."""
        if request.content_length is not None and request.content_length > 8192:
            return _error(400, "invalid_request", "body too large")
        form = await request.post()
        grant = form.get("grant_type")
        if grant != "client_credentials":
            return _error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        client = _basic_client(request.headers.get("Authorization", ""))
        if client is None:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if isinstance(client_id, str) and isinstance(client_secret, str):
                client = (client_id, client_secret)
        if client is None or not self.client_ok(*client):
            response = _error(401, "invalid_client", "client authentication failed")
            response.headers["WWW-Authenticate"] = 'Basic realm="oauth"'
            return response
        body = {"access_token": self.issue(), "token_type": "bearer", "expires_in": int(self._lifetime)}
        return web.json_response(body, headers={"Cache-Control": "no-store"})


def _basic_client(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    # RFC 6749 2.3.1: the client id and secret are form-urlencoded before Basic encoding.
    return (unquote_plus(client_id), unquote_plus(client_secret)) if sep else None


def _error(status: int, code: str, description: str) -> web.Response:
    return web.json_response({"error": code, "error_description": description}, status=status)
