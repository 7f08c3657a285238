"""Our JSON Schema (the catalog's keyword subset) to Hypothesis strategy compiler."""

from __future__ import annotations

import copy
import json
import math
import re
import string
import time
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from referencing._core import Resolver

from harness.errors import SchemaLoadError
from harness.generation.compiler import SchemaCompiler
from harness.generation.schema import (
    array_bounds,
    integer_bounds,
    length_bounds,
    number_bounds,
)
from harness.generation.values import TIME_WINDOW, extra_key_pool, format_time, string_pool
from harness.strategies._regex import regex_strategy

__all__ = ["SchemaStrategies", "any_json", "compile_schema"]

_ALPHABET = string.ascii_letters + string.digits + " .,-_'"
_TEXT = st.text(alphabet=_ALPHABET, max_size=24)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), _TEXT)


def any_json() -> st.SearchStrategy[Any]:
    """Any small JSON value: what ``true`` or ``{}`` admits."""
    return st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), inner, max_size=3)
        ),
        max_leaves=6,
    )


def compile_schema(schema: Any, resolver: Resolver, *, now: float | None = None) -> st.SearchStrategy[Any]:
    """A strategy for values valid against ``schema``; ``$ref`` resolves through the provider's registry.

    Timestamps (``x-time``) fall in the hour before ``now`` (the clock at draw time when None) and shrink towards it;
    ``x-faker`` and formats draw from seeded Faker pools; patterns use ``from_regex``, so everything shrinks.
    """
    return SchemaStrategies(now).compile(schema, resolver)


def _copying(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, dict | list):
        return st.just(value).map(copy.deepcopy)
    return st.just(value)


def _mutable(value: Any) -> bool:
    return isinstance(value, dict | list)


class SchemaStrategies(SchemaCompiler[st.SearchStrategy[Any]]):
    """Schemas to strategies: remembers each ``$ref`` target, so definitions shared by several schemas of one registry
    (and recursive ones) compile once."""

    def __init__(self, now: float | None) -> None:
        super().__init__()
        self.now = now

    def anything(self) -> st.SearchStrategy[Any]:
        """Any small JSON value."""
        return any_json()

    def constant(self, value: Any) -> st.SearchStrategy[Any]:
        """``value``, copied at each draw."""
        return _copying(value)

    def one_of_values(self, values: list[Any]) -> st.SearchStrategy[Any]:
        """One of ``values``, copied at each draw (strings and numbers need no copy, nor a map's extra step)."""
        if any(_mutable(v) for v in values):
            return st.sampled_from(values).map(copy.deepcopy)
        return st.sampled_from(values)

    def choice(self, options: list[st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        """``st.one_of`` (which is the strategy itself for one)."""
        return st.one_of(options)

    def forward(self, cell: list[st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        """A deferred strategy."""
        return st.deferred(lambda: cell[0])

    def typed(self, schema: Mapping[str, Any], kind: str, resolver: Resolver) -> st.SearchStrategy[Any]:
        """The strategy for one JSON type."""
        if kind == "object":
            return self._object(schema, resolver)
        if kind == "array":
            low, high = array_bounds(schema, 3)
            items = self.compile(schema.get("items", True), resolver)
            if schema.get("uniqueItems"):
                return st.lists(items, min_size=low, max_size=high, unique_by=_json_key)
            return st.lists(items, min_size=low, max_size=high)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return self._integer(schema)
        if kind == "number":
            if "x-time" in schema:
                return self._times(schema["x-time"] if schema["x-time"] in ("unix", "unix_ms") else "unix")
            bottom, top, exclude_low, exclude_high = number_bounds(schema)
            return st.floats(bottom, top, exclude_min=exclude_low, exclude_max=exclude_high, allow_nan=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        raise SchemaLoadError(f"Unknown JSON type {kind!r} in a schema.")

    def _object(self, schema: Mapping[str, Any], resolver: Resolver) -> st.SearchStrategy[Any]:
        props: Mapping[str, Any] = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", ())))
        extra = schema.get("additionalProperties", True)
        extra_schema = extra if isinstance(extra, Mapping) and extra else None
        mandatory: dict[str, st.SearchStrategy[Any]] = {}
        for name in required:
            sub = props.get(name, extra_schema if extra_schema is not None else True)
            mandatory[name] = self.compile(sub, resolver) if sub is not True else _SCALARS
        optional = {
            name: self.compile(sub, resolver)
            for name, sub in props.items()
            if name not in mandatory and sub is not False
        }
        fixed = _members(mandatory, optional)
        if extra_schema is None:
            return fixed
        names = [n for n in extra_key_pool() if n not in props]
        extras = st.dictionaries(st.sampled_from(names), self.compile(extra_schema, resolver), max_size=2)
        return st.tuples(fixed, extras).map(lambda pair: {**pair[0], **pair[1]})

    def _string(self, schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
        low, high = length_bounds(schema, 40)
        bounded = "minLength" in schema or "maxLength" in schema
        if "x-time" in schema:
            return self._times(schema["x-time"], text=True)
        if "pattern" in schema:
            try:
                values = regex_strategy(schema["pattern"])
            except re.error as exc:  # an invalid pattern is a catalog bug; say which
                raise SchemaLoadError(f"Cannot generate from the pattern {schema['pattern']!r}: {exc}.") from None
            return values.filter(lambda s: low <= len(s) <= high) if bounded else values
        pool = string_pool(schema)
        if pool is not None:
            return st.sampled_from(pool)  # one draw; a failing example shows the value itself
        fmt = schema.get("format")
        if fmt == "uuid":
            return st.uuids(version=4).map(str)
        if fmt == "date-time":
            return self._times("rfc3339", text=True)
        if fmt == "date":
            return self._times("date", text=True)
        if fmt == "time":
            return st.times().map(lambda t: t.strftime("%H:%M:%S") + "Z")
        if fmt == "decimal":  # Stripe's decimal strings (amount_decimal): stripe-python reads them with Decimal()
            return st.decimals(0, 10**9, places=2, allow_nan=False, allow_infinity=False).map(str)
        return st.text(alphabet=_ALPHABET, min_size=low, max_size=high)

    def _integer(self, schema: Mapping[str, Any]) -> st.SearchStrategy[int]:
        if "x-time" in schema:
            hint = schema["x-time"] if schema["x-time"] in ("unix", "unix_ms") else "unix"
            return self._times(hint)
        low, high = integer_bounds(schema)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            return st.integers(math.ceil(low / step), math.floor(high / step)).map(lambda k: k * step)
        return st.integers(low, high)

    def _times(self, kind: str, *, text: bool = False) -> st.SearchStrategy[Any]:
        """Timestamps in the hour before now, shrinking towards now (as text with ``text``: one map, not two)."""
        fixed = self.now
        clock: Callable[[], float] = time.time if fixed is None else (lambda: fixed)
        if text:
            return st.integers(0, int(TIME_WINDOW * 1000)).map(lambda ms: str(format_time(clock() - ms / 1000, kind)))
        return st.integers(0, int(TIME_WINDOW * 1000)).map(lambda ms: format_time(clock() - ms / 1000, kind))


def _members(
    mandatory: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """The mandatory members, then the optional ones a drawn bitmask picks.

    ``fixed_dictionaries(optional=...)`` spends two draws on every optional member it adds (go on?, which one?); one
    integer for all of them halves the draws of a body with many optional members (GitHub's, Shopify's), and it
    still shrinks: towards 0, no optional member at all.
    """
    if len(optional) < 2:
        return st.fixed_dictionaries(mandatory, optional=optional)
    fixed = st.fixed_dictionaries(mandatory)
    items = list(optional.items())
    masks = st.integers(0, (1 << len(items)) - 1)

    @st.composite
    def members(draw: st.DrawFn) -> dict[str, Any]:
        out = draw(fixed)
        mask = draw(masks)
        for name, strategy in items:
            if mask & 1:
                out[name] = draw(strategy)
            mask >>= 1
        return out

    return members()


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
