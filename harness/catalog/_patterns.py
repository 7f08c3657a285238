"""Schema ``pattern`` matching with a time limit, so a catastrophic-backtracking pattern cannot stall a validator."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex

if TYPE_CHECKING:
    from jsonschema import ValidationError

__all__ = ["MATCH_TIMEOUT", "compile_pattern", "safe_validator"]

MATCH_TIMEOUT = 0.05  # seconds one pattern may spend on one value


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (``regex`` module: re-compatible syntax, and a ``timeout`` on every match)."""
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if not validator.is_type(instance, "string"):
        return
    try:
        found = compile_pattern(pattern).search(instance, timeout=MATCH_TIMEOUT)
    except TimeoutError:
        yield ValidationError(
            f"{pattern!r} took over {MATCH_TIMEOUT * 1000:.0f} ms on a {len(instance)}-character value"
        )
        return
    except regex.error as exc:
        yield ValidationError(f"{pattern!r} is not a usable pattern ({exc})")
        return
    if found is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1)
def safe_validator() -> Any:
    """Draft 2020-12 with time-limited ``pattern`` matching (jsonschema imported on first use: a quick start-up)."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
