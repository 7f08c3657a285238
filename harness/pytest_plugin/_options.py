"""The plugin's options: command line, then ini / pyproject, then environment variables (secrets) and config file."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

import pytest

from harness.credentials import CREDENTIAL_FIELDS, ENV_VARS, Credentials

__all__ = ["OPTIONS", "Settings", "add_options", "settings_from"]

# (option name without --webhook-, help, is_list)
OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("url", "receiver URL: turns the contract suite on", False),
    ("provider", "provider id (sendgrid, jira, teams, oci, github, stripe, slack, shopify, standard)", False),
    ("secret", f"shared secret (env {ENV_VARS['secret']})", False),
    ("signing-key", f"ECDSA P-256 private key PEM (env {ENV_VARS['signing_key']})", False),
    ("token-url", "OAuth2 client-credentials token endpoint", False),
    ("client-id", "OAuth2 client id", False),
    ("client-secret", f"OAuth2 client secret (env {ENV_VARS['client_secret']})", False),
    ("oauth-credentials-in", "send OAuth client credentials as 'basic' (default) or 'form'", False),
    ("basic", "HTTP Basic USER:PASS", False),
    ("bearer", "a static bearer token", False),
    ("probe-url", "side-effect probe URL template with {event_id}", False),
    ("probe-db", "side-effect probe database URL (SQLAlchemy)", False),
    ("probe-sql", "side-effect probe SQL, binds :event_id", False),
    ("check", "run only this check id (repeatable)", True),
    ("exclude-check", "skip this check id (repeatable)", True),
    ("max-examples", "Hypothesis examples per fuzzing check", False),
    ("timeout", "receiver timeout in seconds (default: the provider's)", False),
    ("schemas", "a folder of provider folders that add to or replace the built-in catalog", False),
    ("callback-host", "host the receiver can reach the harness on, for the OCI handshake", False),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every ``--webhook-*`` option and its ``webhook_*`` ini twin."""
    group = parser.getgroup("webhook-harness", "webhook contract checks (webhook-harness)")
    for name, help_text, is_list in OPTIONS:
        dest = "webhook_" + name.replace("-", "_")
        if is_list:
            group.addoption(f"--webhook-{name}", dest=dest, action="append", default=[], help=help_text)
            parser.addini(dest, help_text, type="linelist", default=[])
        else:
            group.addoption(f"--webhook-{name}", dest=dest, default=None, help=help_text)
            parser.addini(dest, help_text, default="")


def _value(config: pytest.Config, name: str) -> Any:
    dest = "webhook_" + name.replace("-", "_")
    value = config.getoption(dest, default=None)
    if value in (None, "", []):
        value = config.getini(dest)
    return value if value not in ("", []) else None


@dataclass(frozen=True)
class Settings:
    """What the contract suite runs with, resolved once per session."""

    provider: str
    url: str
    credentials: Credentials
    probe_url: str | None
    probe_db: str | None
    probe_sql: str | None
    checks: tuple[str, ...]
    exclude_checks: tuple[str, ...]
    max_examples: int
    timeout: float | None
    schemas: str | None
    callback_host: str
    seed: int


def _seed(config: pytest.Config) -> int:
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is not None:
        return int(seed)
    if os.environ.get("CI"):
        return 0  # derandomized in CI, as the Hypothesis "ci" profile is
    worker_seed = os.environ.get("WEBHOOK_HARNESS_SESSION_SEED")
    if worker_seed:
        return int(worker_seed)
    return random.SystemRandom().randrange(2**32)


def settings_from(config: pytest.Config) -> Settings | None:
    """The session's settings, or None when no receiver URL was given (the plugin then stays silent)."""
    url = _value(config, "url")
    if not url:
        return None
    provider = _value(config, "provider")
    if not provider:
        raise pytest.UsageError("webhook-harness: --webhook-url needs --webhook-provider (or ini webhook_provider).")
    options = {field: _value(config, field.replace("_", "-")) for field in CREDENTIAL_FIELDS}
    from harness.config import load_config
    from harness.errors import HarnessError

    try:
        file_config = load_config()
        credentials = Credentials.resolve(options, file_config)
    except HarnessError as exc:
        raise pytest.UsageError(f"webhook-harness: {exc}") from None
    max_examples = _value(config, "max-examples")
    timeout = _value(config, "timeout")
    try:
        return Settings(
            provider=str(provider),
            url=str(url),
            credentials=credentials,
            probe_url=_value(config, "probe-url"),
            probe_db=_value(config, "probe-db"),
            probe_sql=_value(config, "probe-sql"),
            checks=tuple(_value(config, "check") or ()),
            exclude_checks=tuple(_value(config, "exclude-check") or ()),
            max_examples=int(max_examples) if max_examples else 20,
            timeout=float(timeout) if timeout else None,
            schemas=_value(config, "schemas"),
            callback_host=_value(config, "callback-host") or "127.0.0.1",
            seed=_seed(config),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"webhook-harness: bad numeric option ({exc}).") from None
