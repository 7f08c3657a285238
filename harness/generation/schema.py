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


def conjoin(first: Any, second: Any, resolver: Resolver | None = None) -> Any:
    """One node meaning both (as ``allOf`` would), or ``False`` where nothing can satisfy both.

    Intersected: ``properties`` (a ``false`` member stays forbidden), ``items``, ``additionalProperties``,
    ``required``, bounds, ``type``, ``enum``, ``const`` and the alternatives of ``anyOf``/``oneOf`` (each pair of
    branches that can hold together). Other keywords of ``second`` win. With a ``resolver``, a same-document
    ``$ref`` on one side only (or a different one on each) is followed first, so what it points at is intersected too.
    """
    if first is False or second is False:
        return False
    if first is True or not isinstance(first, Mapping):
        return second
    if second is True or not isinstance(second, Mapping) or first is second:
        return first
    if resolver is not None and first.get("$ref") != second.get("$ref"):
        left, right = _local_target(first, resolver), _local_target(second, resolver)
        if left is not first or right is not second:
            return conjoin(left, right, resolver)
    out = dict(first)
    for key, value in second.items():
        if key not in out or out[key] is value:
            out[key] = value
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = conjoin(props[name], sub, resolver) if name in props else sub
            out[key] = props
        elif key in ("items", "additionalProperties"):
            out[key] = conjoin(out[key], value, resolver)
        elif key in _LOWER_BOUNDS:
            out[key] = max(out[key], value)
        elif key in _UPPER_BOUNDS:
            out[key] = min(out[key], value)
        elif key == "type":
            mine = [out[key]] if isinstance(out[key], str) else list(out[key])
            theirs = [value] if isinstance(value, str) else list(value)
            both = [k for k in mine if k in theirs or (k == "integer" and "number" in theirs)]
            both += [k for k in theirs if k == "integer" and "number" in mine and k not in both]
            if not both:
                return False
            out[key] = both
        elif key == "enum":
            out[key] = [v for v in out[key] if any(_same(v, w) for w in value)]
            if not out[key]:
                return False
        elif key == "const":
            if not _same(out[key], value):
                return False
        elif key in ("anyOf", "oneOf"):
            if out[key] != value:
                pairs = [conjoin(a, b, resolver) for a in out[key] for b in value]
                out[key] = [pair for pair in pairs if pair is not False]
                if not out[key]:
                    return False
        else:
            out[key] = value
    return out if _possible(out) else False


def _local_target(node: Mapping[str, Any], resolver: Resolver) -> Any:
    """What a same-document ``$ref`` node means (its siblings conjoined); any other node as it is."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        return resolve(node, resolver)[0]
    return node


def _same(a: Any, b: Any) -> bool:
    """JSON equality of two values (``1`` is not ``true``)."""
    return a == b and (isinstance(a, dict | list) or json_type(a) == json_type(b))


def _possible(node: Mapping[str, Any]) -> bool:
    """False where an object must carry a member the node forbids (and nothing but an object is allowed)."""
    required = node.get("required")
    if not required:
        return True
    props = node.get("properties") or {}
    extra = node.get("additionalProperties", True)
    if not any(props.get(name, extra) is False for name in required):
        return True
    declared = node.get("type")
    others = [declared] if isinstance(declared, str) else list(declared or ["object"])
    return any(k != "object" for k in others) if declared is not None else False


def branches(schema: Mapping[str, Any], resolver: Resolver | None = None) -> list[Any]:
    """The alternatives a value is drawn from, each conjoined with the node's other keywords (an outer ``type``).

    ``oneOf`` when present (the validating keyword), else ``anyOf``; an ``anyOf`` that is not a copy of the
    ``oneOf`` stays on each branch and is conjoined in turn, so a value satisfies both. Branches that cannot hold
    together with the node's other keywords (a member one requires and the other forbids) are left out; with a
    ``resolver``, same-document ``$ref``s are followed to tell.
    """
    key = "oneOf" if "oneOf" in schema else "anyOf"
    copy = key == "oneOf" and schema.get("anyOf") == schema["oneOf"]
    siblings = {k: v for k, v in schema.items() if k != key and k not in ANNOTATIONS and not (copy and k == "anyOf")}
    out = []
    for branch in schema[key]:
        merged = conjoin(siblings, branch, resolver) if siblings else branch
        if merged is not False:
            out.append(merged)
    if not out:
        raise SchemaLoadError(f"{key} with no satisfiable alternative")
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
