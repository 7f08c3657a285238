"""The plugin's options: ``--webhook-*`` and their ini twins, resolved by the same resolver as the CLI."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from harness.core.settings_table import Setting, by_name, for_pytest
from harness.settings.resolve import RunConfig

__all__ = ["SEED_ENV", "Settings", "add_options", "explicit_options", "settings_from"]

# The controller's seed, handed to xdist workers so every worker and the header agree.
SEED_ENV = "WEBHOOK_HARNESS_SESSION_SEED"

Settings = RunConfig  # the plugin's settings are the engine's run configuration
_SETTINGS = for_pytest()  # every --webhook-* option and webhook_* ini key, from the settings table


def add_options(parser: pytest.Parser) -> None:
    """Register every ``--webhook-*`` option and its ``webhook_*`` ini twin, from the settings table."""
    group = parser.getgroup("webhook-harness", "webhook contract checks (webhook-harness)")
    for s in _SETTINGS:
        if s.type.flag:
            group.addoption(s.pytest_option, dest=s.ini, action="store_true", default=False, help=s.usage_help())
            parser.addini(s.ini, s.help, type="bool", default=False)
        elif s.type.repeat:
            group.addoption(s.pytest_option, dest=s.ini, action="append", default=[], help=s.usage_help())
            parser.addini(s.ini, s.help, type="linelist", default=[])
        else:
            group.addoption(s.pytest_option, dest=s.ini, default=None, help=s.usage_help())
            parser.addini(s.ini, s.help, default="")


def _value(config: pytest.Config, dest: str) -> Any:
    value = config.getoption(dest, default=None)
    if value in (None, "", [], False):
        value = config.getini(dest)
    return value if value not in ("", [], False) else None


def explicit_options(config: pytest.Config) -> dict[str, Any]:
    """The options given on the command line or in the ini file, keyed by the settings table's names."""
    options = {s.name: _value(config, s.ini) for s in _SETTINGS}
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


def _label(setting: Setting) -> str:
    return setting.pytest_option


def settings_from(config: pytest.Config, *, require_target: bool = True) -> RunConfig | None:
    """The session's run configuration, or None when no receiver URL was given (the plugin then stays silent)."""
    from harness.errors import HarnessError
    from harness.settings.file import load_config
    from harness.settings.resolve import resolve_run_config

    options = explicit_options(config)
    try:
        file = load_config(options.pop("config") or os.environ.get(by_name("config").env_var or "") or None)
        if require_target and not (options.get("url") or os.environ.get("WEBHOOK_HARNESS_URL") or file.get("url")):
            return None  # no receiver: the plugin stays silent
        if options["seed"] is None and not (os.environ.get("WEBHOOK_HARNESS_SEED") or file.get("seed") is not None):
            options["seed"] = 0 if os.environ.get("CI") else random.SystemRandom().randrange(2**32)
        settings = resolve_run_config(options, config=file, require_target=require_target, label=_label)
    except HarnessError as exc:
        raise pytest.UsageError(f"webhook-harness: {exc}") from None
    if not hasattr(config, "workerinput"):
        os.environ[SEED_ENV] = str(settings.seed)  # xdist workers inherit it; the header and replay lines agree
    return settings
