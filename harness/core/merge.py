"""One deep merge for every layered mapping: catalog profiles, scenario and command-line retry overrides."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["deep_merge"]


def deep_merge(base: Mapping[str, Any], *layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """``base`` with each layer merged over it in turn: mappings key by key, anything else replaced whole."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for layer in layers:
        for key, value in (layer or {}).items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged
