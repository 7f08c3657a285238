"""The config file: ``webhook-harness.toml`` or ``[tool.webhook-harness]`` in ``pyproject.toml``, validated on load."""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.files import read_text
from harness.errors import ConfigError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["CONFIG_NAME", "CONFIG_SCHEMA_PATH", "ConfigFile", "find_config", "known_keys", "load_config"]

CONFIG_NAME = "webhook-harness.toml"
CONFIG_SCHEMA_PATH = Path(__file__).with_name("config.schema.json")


class ConfigFile(dict[str, Any]):
    """The config file's keys, remembering the file they came from (for messages that name it)."""

    path: Path | None = None


_PROVIDERS_KEY = {
    "description": "Profile overrides per provider: [providers.<id>] with any profile key "
    "(see docs/catalog-format.md).",
    "type": "object",
    "additionalProperties": {"type": "object"},
}


def schema_document() -> dict[str, Any]:
    """The config file's JSON Schema, derived from the settings table (``config.schema.json`` is this, written out)."""
    from harness.core.settings_table import config_schema

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://webhook-harness.invalid/config.schema.json",
        "title": "webhook-harness config file",
        "description": "webhook-harness.toml, or [tool.webhook-harness] in pyproject.toml. Every key is optional; "
        "a command-line option or environment variable given for the same setting wins.",
        "type": "object",
        "additionalProperties": False,
        "properties": {**config_schema(), "providers": _PROVIDERS_KEY},
    }


def schema_text() -> str:
    """``config.schema.json`` as it must read."""
    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


@cache
def _schema() -> dict[str, Any]:
    return schema_document()


@cache
def _validator() -> Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema())


def known_keys() -> list[str]:
    """Every key the config file may hold, sorted."""
    return sorted(_schema()["properties"])


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


def _describe(error: Any) -> str:
    """One line for the most relevant schema error, naming the key."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties" and not path:
        unknown = sorted(set(error.instance) - set(_schema()["properties"]))
        return f"unknown key {unknown[0]!r}. Known keys: {', '.join(known_keys())}"
    key = ".".join(path) or "(root)"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"[{key}]: unknown key {extra[0]!r}" + (f" (known: {', '.join(allowed)})" if allowed else "")
    if error.validator == "oneOf":
        described = _schema()["properties"].get(path[0], {}).get("description", "") if path else ""
        return f"key {key!r}: {error.instance!r} is not valid" + (f"; expected {described}" if described else "")
    return f"key {key!r}: {error.message}"


def load_config(path: Path | str | None = None) -> ConfigFile:
    """Read and validate the config file; an explicit path must exist, a discovered one is optional."""
    explicit = path is not None
    found = Path(path) if path is not None else find_config()
    config = ConfigFile()
    if found is None or not (explicit or found.exists()):  # a discovered file that has gone since
        return config
    text = read_text(found, ConfigError, what="config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: invalid TOML: {exc}.") from None
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("webhook-harness", {})
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data), key=lambda e: (-len(e.absolute_path), 0))
    if error is not None:
        raise ConfigError(f"{found}: {_describe(error)}.")
    config.update(data)
    config.path = found
    return config
