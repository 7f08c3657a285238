"""Credentials from options, environment variables or a config file, and the redaction that keeps them out of output."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "CREDENTIAL_FIELDS",
    "ENV_VARS",
    "Credentials",
    "Redactor",
    "looks_secret",
    "redact_url",
    "url_secrets",
    "without_userinfo",
]

ENV_VARS = {
    name: f"WEBHOOK_HARNESS_{name.upper()}"
    for name in (
        "secret",
        "signing_key",
        "token_url",
        "client_id",
        "client_secret",
        "oauth_credentials_in",
        "basic",
        "bearer",
    )
}
REDACTED = "***"
_INLINE_KEY = re.compile(r"^(whsk_[A-Za-z0-9+/=]{16,}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{128})$")
_SECRET_NAME = re.compile(r"(?i)auth|token|secret|passw|key|credential|cookie|session|private")


def looks_secret(header_name: str) -> bool:
    """A header whose name suggests it carries a credential (``X-Api-Key``, ``Set-Cookie``, ``X-Auth-Token``)."""
    return bool(_SECRET_NAME.search(header_name))


def url_secrets(url: str | None) -> list[str]:
    """The password in a URL's user-info, and the ``user:password`` pair whose base64 is its Basic header."""
    if not url or "@" not in url:
        return []
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return []
    if not password:
        return []
    return [password, unquote(password), f"{unquote(user or '')}:{unquote(password)}"]


def _forms(secret: str) -> set[str]:
    """A secret and the forms it travels in: base64 (Basic auth, Teams tokens), without a ``whsec_`` prefix."""
    forms = {secret, base64.b64encode(secret.encode()).decode()}
    if secret.startswith("whsec_"):
        forms.add(secret[len("whsec_") :])
    return forms


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything a signing scheme may need; the credentials given choose the auth mode."""

    secret: str | None = None
    signing_key: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    oauth_credentials_in: str | None = None
    basic: tuple[str, str] | None = None
    bearer: str | None = None
    tokens: Any = field(default=None, compare=False, repr=False)  # the session's OAuth token clients (not a setting)
    certificates: Any = field(default=None, compare=False, repr=False)  # the session's SNS certificate server (ditto)

    @classmethod
    def resolve(
        cls,
        options: Mapping[str, Any],
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Merge option > environment variable > config file, per field, with the settings table's parsers."""
        from harness.core.settings_table import by_name, resolve_values

        env = os.environ if env is None else env
        values = resolve_values([by_name(name) for name in CREDENTIAL_FIELDS], options, env=env, config=config or {})
        return cls(**values)

    @property
    def has_oauth(self) -> bool:
        """Client-credentials OAuth is configured."""
        return bool(self.token_url and self.client_id)

    def secrets(self) -> list[str]:
        """Every secret value that must never be printed."""
        out = [self.secret, self.client_secret, self.bearer]
        if self.signing_key and "-----BEGIN" in self.signing_key:  # PEM text itself, not a path: every line is secret
            out.append(self.signing_key)
            out += [line.strip() for line in self.signing_key.splitlines() if len(line.strip()) >= 16]
        elif self.signing_key and _INLINE_KEY.match(self.signing_key.strip()):  # an Ed25519 key itself (whsk_, hex)
            out += [self.signing_key, self.signing_key.strip().removeprefix("whsk_")]
        if self.basic:
            out += [self.basic[1], f"{self.basic[0]}:{self.basic[1]}"]  # the pair's base64 is the Basic header
        return [s for s in out if s]


class Redactor:
    """Replaces secrets, and the forms they travel in, with ``***``."""

    _AUTH = re.compile(r"(?i)\b(authorization:\s*|'authorization:\s*)(bearer|basic)\s+[^\s'\"]+")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Also redact ``secret`` and its base64 forms (Basic auth, Teams tokens)."""
        if not secret or len(secret) < 3:
            return
        self._needles = sorted({*self._needles, *_forms(secret)}, key=len, reverse=True)  # one atomic swap

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, REDACTED)
        return self._AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)} {REDACTED}", text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with secret-bearing values redacted (Authorization credentials, any known secret)."""
        out = {}
        for name, value in headers.items():
            if name.strip().lower() in ("authorization", "proxy-authorization", "cookie"):
                scheme, _, rest = value.partition(" ")
                value = f"{scheme} {REDACTED}" if rest and scheme.lower() in ("bearer", "basic") else value
            out[name] = self(value)
        return out

    def peer_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A peer's headers for printing: values of secret-looking names hidden, known secrets hidden in the rest."""
        return {name: REDACTED if looks_secret(name) else self(value) for name, value in self.headers(headers).items()}


def without_userinfo(url: str) -> str:
    """The URL without ``user:password@`` (text only: a URL too broken to parse still loses it, and an "@" in the
    path or query is left alone)."""
    head, sep, tail = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (tail.find(c) for c in "/?#") if i >= 0), default=len(tail))
    return head + sep + tail[:end].rpartition("@")[2] + tail[end:]


def redact_url(url: str) -> str:
    """The URL without a password in its user-info (also for a URL too broken to parse)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)
    if "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


CREDENTIAL_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Credentials) if f.name not in ("tokens", "certificates")
)
"""The credential option names, shared by the CLI, the pytest plugin and the config file."""
