"""Reading the catalog's JSON Schema subset: what a schema node asks for, shared by both generators."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from referencing._core import Resolver

from harness.errors import SchemaLoadError

__all__ = [
    "json_type",
    "ANNOTATIONS",
    "array_bounds",
    "branches",
    "conjoin",
    "integer_bounds",
    "kinds",
    "length_bounds",
    "number_bounds",
    "resolve",
]

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default", "x-event-type", "deprecated"}
)
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
_ARRAY_KEYS = ("items", "minItems", "maxItems", "uniqueItems")
_STRING_KEYS = ("pattern", "format", "minLength", "maxLength", "x-faker")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_ALL_TYPES = ["null", "boolean", "integer", "string", "array", "object"]
MAX_MIN_SIZE = 100_000  # the largest minLength/minItems generated; the catalog loader refuses larger ones


def _minimum(schema: Mapping[str, Any], key: str) -> int:
    value = schema.get(key, 0)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= MAX_MIN_SIZE:
        raise SchemaLoadError(f"{key} {value!r} is not a size from 0 to {MAX_MIN_SIZE:,}")
    return int(value)


def resolve(schema: Mapping[str, Any], resolver: Resolver) -> tuple[Any, Resolver]:
    """Follow ``$ref`` (repeatedly); sibling keywords other than annotations are merged over the target."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema:
        seen += 1
        if seen > 32:
            raise SchemaLoadError(f"$ref chain too long at {schema['$ref']!r}")
        resolved = resolver.lookup(schema["$ref"])
        siblings = {k: v for k, v in schema.items() if k != "$ref" and k not in ANNOTATIONS}
        target, resolver = resolved.contents, resolved.resolver
        schema = conjoin(target, siblings) if siblings and isinstance(target, Mapping) else target
    return schema, resolver


def conjoin(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """One node meaning both (as ``allOf`` would) for the common keywords; other keywords of ``second`` win."""
    out = dict(first)
    for key, value in second.items():
        if key not in out:
            out[key] = value
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                both = isinstance(props.get(name), Mapping) and isinstance(sub, Mapping)
                props[name] = conjoin(props[name], sub) if both else sub
            out[key] = props
        elif key in _LOWER_BOUNDS:
            out[key] = max(out[key], value)
        elif key in _UPPER_BOUNDS:
            out[key] = min(out[key], value)
        elif key == "type":
            mine = [out[key]] if isinstance(out[key], str) else list(out[key])
            theirs = [value] if isinstance(value, str) else list(value)
            out[key] = [k for k in mine if k in theirs or (k == "integer" and "number" in theirs)] or theirs
        else:
            out[key] = value
    return out


def branches(schema: Mapping[str, Any]) -> list[Any]:
    """The ``anyOf`` alternatives, each with the node's other keywords merged in (an outer ``type``, a format)."""
    siblings = {k: v for k, v in schema.items() if k != "anyOf" and k not in ANNOTATIONS}
    out = []
    for branch in schema["anyOf"]:
        if branch is True:
            out.append(siblings or True)
        elif isinstance(branch, Mapping):
            out.append({**siblings, **branch})
    if not out:
        raise SchemaLoadError("anyOf with no satisfiable alternative")
    return out


def kinds(schema: Mapping[str, Any]) -> list[str]:
    """The JSON types a node admits: its ``type``, or what its keywords imply when ``type`` is absent."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(k) for k in declared]
    if any(k in schema for k in _OBJECT_KEYS):
        return ["object"]
    if any(k in schema for k in _ARRAY_KEYS):
        return ["array"]
    if any(k in schema for k in _STRING_KEYS):
        return ["string"]
    if any(k in schema for k in _NUMBER_KEYS):
        return ["number"]
    if "x-time" in schema:
        return ["integer"] if schema["x-time"] in ("unix", "unix_ms") else ["string"]
    return list(_ALL_TYPES)


def integer_bounds(schema: Mapping[str, Any], default_span: int = 10**6) -> tuple[int, int]:
    """Inclusive integer bounds from minimum/maximum/exclusive*, with a default span where one side is open."""
    low: int | None = None
    high: int | None = None
    if "minimum" in schema:
        low = math.ceil(schema["minimum"])
    if "exclusiveMinimum" in schema:
        low = max(low if low is not None else -(2**63), math.floor(schema["exclusiveMinimum"]) + 1)
    if "maximum" in schema:
        high = math.floor(schema["maximum"])
    if "exclusiveMaximum" in schema:
        high = min(high if high is not None else 2**63, math.ceil(schema["exclusiveMaximum"]) - 1)
    if low is None and high is None:
        low, high = -default_span, default_span
    elif low is None:
        assert high is not None
        low = high - 2 * default_span
    elif high is None:
        high = low + 2 * default_span
    if low > high:
        raise SchemaLoadError(f"integer bounds {low}..{high} admit no value")
    return low, high


def number_bounds(schema: Mapping[str, Any], default_span: float = 1e6) -> tuple[float, float, bool, bool]:
    """Float bounds and whether each end is excluded."""
    low = float(schema.get("minimum", schema.get("exclusiveMinimum", -math.inf)))
    high = float(schema.get("maximum", schema.get("exclusiveMaximum", math.inf)))
    exclude_low = "exclusiveMinimum" in schema and "minimum" not in schema
    exclude_high = "exclusiveMaximum" in schema and "maximum" not in schema
    if math.isinf(low) and math.isinf(high):
        low, high = -default_span, default_span
    elif math.isinf(low):
        low = high - 2 * default_span
    elif math.isinf(high):
        high = low + 2 * default_span
    return low, high, exclude_low, exclude_high


def length_bounds(schema: Mapping[str, Any], default_max: int) -> tuple[int, int]:
    """Inclusive string length bounds."""
    low = _minimum(schema, "minLength")
    high = int(schema.get("maxLength", max(low, default_max)))
    if low > high:
        raise SchemaLoadError(f"string length bounds {low}..{high} admit no value")
    return low, high


def array_bounds(schema: Mapping[str, Any], extra: int) -> tuple[int, int]:
    """Inclusive array size bounds, the upper one capped at ``minItems + extra`` to keep payloads small."""
    low = _minimum(schema, "minItems")
    high = min(int(schema.get("maxItems", low + extra)), low + extra)
    if low > high:
        raise SchemaLoadError(f"array size bounds {low}..{high} admit no value")
    return low, high


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
