"""The plugin's options: ``--webhook-*`` and their ini twins, resolved by the same resolver as the CLI."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from harness.credentials import ENV_VARS
from harness.settings import RunConfig

__all__ = ["FLAGS", "OPTIONS", "SEED_ENV", "Settings", "add_options", "explicit_options", "settings_from"]

# The controller's seed, handed to xdist workers so every worker and the header agree.
SEED_ENV = "WEBHOOK_HARNESS_SESSION_SEED"

# (option name without --webhook-, help, is_list)
OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("url", "receiver URL: turns the contract suite on", False),
    ("provider", "provider id (sendgrid, jira, teams, oci, github, stripe, slack, shopify, standard)", False),
    ("config", "config file (default: ./webhook-harness.toml or [tool.webhook-harness] in ./pyproject.toml)", False),
    ("secret", f"shared secret (env {ENV_VARS['secret']})", False),
    ("signing-key", f"ECDSA P-256 private key PEM (env {ENV_VARS['signing_key']})", False),
    ("token-url", "OAuth2 client-credentials token endpoint", False),
    ("client-id", "OAuth2 client id", False),
    ("client-secret", f"OAuth2 client secret (env {ENV_VARS['client_secret']})", False),
    ("oauth-credentials-in", "send OAuth client credentials as 'basic' (default) or 'form'", False),
    ("basic", f"HTTP Basic USER:PASS (env {ENV_VARS['basic']})", False),
    ("bearer", f"a static bearer token (env {ENV_VARS['bearer']})", False),
    ("probe-url", "side-effect probe URL template with {event_id}", False),
    ("probe-db", "side-effect probe database URL (SQLAlchemy)", False),
    ("probe-sql", "side-effect probe SQL, binds :event_id", False),
    ("state-url", "state probe URL template with {object_id}: turns the converges check on", False),
    ("state-db", "state probe database URL (SQLAlchemy)", False),
    ("state-sql", "state probe SQL returning the object's one row, binds :object_id", False),
    ("state-field", "FIELD=/pointer: where a lifecycle field sits in the state view (repeatable)", True),
    ("check", "run only this check id (repeatable)", True),
    ("exclude-check", "skip this check id (repeatable)", True),
    ("max-examples", "Hypothesis examples per fuzzing check", False),
    ("timeout", "receiver timeout, seconds or a duration such as 10s (default: the provider's)", False),
    ("schemas", "a folder of provider folders that add to or replace the built-in catalog", False),
    ("callback-host", "host the receiver can reach the harness on, for the OCI handshake", False),
    ("warn", "report this check's findings as a warning, not a failure (repeatable)", True),
    ("error", "fail on this check's findings even if its default severity is warn (repeatable)", True),
    ("max-time", "run budget: after it nothing is sent and unfinished checks are blocked", False),
    ("settle-timeout", "how long a probe read waits for the stored count to settle (default 5s)", False),
    ("ca-bundle", "CA certificates (PEM) that sign the receiver's certificate", False),
    ("client-cert", "client certificate (PEM) for mutual TLS", False),
    ("client-key", "client certificate's private key (PEM) for mutual TLS", False),
    ("proxy", "send every request through this HTTP(S) proxy", False),
    ("header", "an extra, unsigned request header 'Name: value' for gateways (repeatable)", True),
)
# Flags without a value.
FLAGS: tuple[tuple[str, str], ...] = (("strict", "every warn-severity check fails (warned items become failures)"),)
# Plugin option name -> the resolver's (and config file's) key.
_KEYS = {"check": "checks", "exclude-check": "exclude_checks", "header": "headers", "state-field": "state_fields"}

Settings = RunConfig  # the plugin's settings are the engine's run configuration


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
    for name, help_text in FLAGS:
        dest = "webhook_" + name.replace("-", "_")
        group.addoption(f"--webhook-{name}", dest=dest, action="store_true", default=False, help=help_text)
        parser.addini(dest, help_text, type="bool", default=False)


def _value(config: pytest.Config, name: str) -> Any:
    dest = "webhook_" + name.replace("-", "_")
    value = config.getoption(dest, default=None)
    if value in (None, "", []):
        value = config.getini(dest)
    return value if value not in ("", []) else None


def explicit_options(config: pytest.Config) -> dict[str, Any]:
    """The options given on the command line or in the ini file, keyed as the resolver and config file key them."""
    options = {_KEYS.get(name, name.replace("-", "_")): _value(config, name) for name, _, _ in OPTIONS}
    options.pop("config", None)
    warn, error = options.pop("warn") or [], options.pop("error") or []
    both = sorted(set(warn) & set(error))
    if both:
        raise pytest.UsageError(f"webhook-harness: check {both[0]!r} is given both --webhook-warn and --webhook-error.")
    options["severities"] = {**dict.fromkeys(warn, "warn"), **dict.fromkeys(error, "error")}
    for name, _ in FLAGS:
        dest = "webhook_" + name.replace("-", "_")
        options[name.replace("-", "_")] = bool(config.getoption(dest, default=False) or config.getini(dest)) or None
    options["seed"] = _seed(config)
    return options


def _seed(config: pytest.Config) -> int | None:
    """--hypothesis-seed, or the controller's seed on an xdist worker; None lets the config file or a draw decide."""
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is not None:
        try:
            return int(seed)
        except ValueError:
            raise pytest.UsageError(f"webhook-harness: invalid --hypothesis-seed {seed!r}.") from None
    worker_seed = os.environ.get(SEED_ENV)
    if worker_seed and hasattr(config, "workerinput"):
        return int(worker_seed)
    return None


def settings_from(config: pytest.Config, *, require_target: bool = True) -> RunConfig | None:
    """The session's run configuration, or None when no receiver URL was given (the plugin then stays silent)."""
    from harness.config import load_config
    from harness.errors import HarnessError
    from harness.settings import resolve_run_config

    options = explicit_options(config)
    try:
        file = load_config(_value(config, "config"))
        if require_target and not (options.get("url") or file.get("url")):
            return None  # no receiver: the plugin stays silent
        settings = resolve_run_config(options, config=file, require_target=require_target)
    except HarnessError as exc:
        raise pytest.UsageError(f"webhook-harness: {exc}") from None
    if settings.seed is None:
        settings.seed = 0 if os.environ.get("CI") else random.SystemRandom().randrange(2**32)
    if not hasattr(config, "workerinput"):
        os.environ[SEED_ENV] = str(settings.seed)  # xdist workers inherit it; the header and replay lines agree
    return settings
