"""The config file: ``webhook-harness.toml`` or ``[tool.webhook-harness]`` in ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from harness.credentials import CREDENTIAL_FIELDS
from harness.errors import ConfigError

__all__ = ["KNOWN_KEYS", "find_config", "load_config"]

CONFIG_NAME = "webhook-harness.toml"
KNOWN_KEYS = {
    *CREDENTIAL_FIELDS,
    "provider",
    "url",
    "schemas",
    "probe_url",
    "probe_db",
    "probe_sql",
    "timeout",
    "seed",
    "max_examples",
    "callback_host",
    "report",
    "checks",
    "exclude_checks",
    "providers",
}


def find_config(start: Path | None = None) -> Path | None:
    """The config file in ``start`` (default: the working directory), if any."""
    folder = start or Path.cwd()
    if (folder / CONFIG_NAME).is_file():
        return folder / CONFIG_NAME
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            return None
        if "webhook-harness" in data.get("tool", {}):
            return pyproject
    return None


def load_config(path: Path | str | None = None) -> dict[str, Any]:
    """Read and check the config file; an explicit path must exist, a discovered one is optional."""
    explicit = path is not None
    found = Path(path) if path is not None else find_config()
    if found is None:
        return {}
    try:
        data = tomllib.loads(found.read_text("utf-8"))
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{found}: config file not found.") from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{found}: cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: invalid TOML: {exc}.") from None
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("webhook-harness", {})
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{found}: unknown key {unknown[0]!r}. Known keys: {', '.join(sorted(KNOWN_KEYS))}.")
    providers = data.get("providers", {})
    if not isinstance(providers, dict) or not all(isinstance(v, dict) for v in providers.values()):
        raise ConfigError(f"{found}: [providers.<id>] sections must be tables of profile keys.")
    return data
