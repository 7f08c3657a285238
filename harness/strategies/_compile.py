"""Our JSON Schema (the catalog's keyword subset) to Hypothesis strategy compiler."""

from __future__ import annotations

import math
import random
import string
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from referencing._core import Resolver

from harness.core.regexgen import regex_generator
from harness.strategies._values import FORMAT_FAKERS, faker_pool, time_value

__all__ = ["compile_schema"]

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,-_'", max_size=40)
_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), _TEXT)


def _times(kind: str, *, as_string: bool) -> st.SearchStrategy[Any]:
    offsets = st.floats(min_value=0, max_value=3600, allow_nan=False)
    return offsets.map(lambda off: time_value(kind, off))


def compile_schema(schema: Any, resolver: Resolver) -> st.SearchStrategy[Any]:
    """A strategy for values valid against ``schema``; ``$ref`` is resolved through the provider's registry."""
    if schema is True or schema == {}:
        return _JSON_SCALARS
    if not isinstance(schema, Mapping):
        raise ValueError(f"cannot generate from schema {schema!r}")
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        return st.deferred(lambda: compile_schema(resolved.contents, resolved.resolver))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        return st.one_of([compile_schema(sub, resolver) for sub in schema["anyOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([compile_schema({**schema, "type": k}, resolver) for k in kind])
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, resolver)
    if kind == "array":
        items = compile_schema(schema.get("items", {}), resolver)
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", low + 3))
        return st.lists(items, min_size=low, max_size=min(high, low + 3))
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        if "x-time" in schema:
            return _times(schema["x-time"], as_string=False)
        low = schema.get("minimum", -(2**31))
        high = schema.get("maximum", max(low, 0) + 10**6)
        return st.integers(min_value=int(low), max_value=int(high))
    if kind == "number":
        low = schema.get("minimum", -1e6)
        high = schema.get("maximum", 1e6)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False).filter(math.isfinite)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return _JSON_SCALARS


def _object(schema: Mapping[str, Any], resolver: Resolver) -> st.SearchStrategy[Any]:
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    mandatory = {name: compile_schema(sub, resolver) for name, sub in props.items() if name in required}
    optional = {name: compile_schema(sub, resolver) for name, sub in props.items() if name not in required}
    for name in required - set(props):
        mandatory[name] = _JSON_SCALARS
    return st.fixed_dictionaries(mandatory, optional=optional)


def _string(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    if "x-time" in schema:
        return _times(schema["x-time"], as_string=True)
    if "pattern" in schema:
        # Seeded construction of a full match: far cheaper than from_regex, and it still shrinks (via the seed).
        generate = regex_generator(schema["pattern"])
        return st.integers(0, 2**32 - 1).map(lambda seed: generate(random.Random(seed)))
    if "x-faker" in schema:
        return st.sampled_from(faker_pool(schema["x-faker"]))
    fmt = schema.get("format")
    if fmt in FORMAT_FAKERS:
        return st.sampled_from(faker_pool(FORMAT_FAKERS[fmt]))
    if fmt == "uuid":
        return st.uuids(version=4).map(str)
    if fmt == "date-time":
        return _times("rfc3339", as_string=True)
    if fmt == "date":
        return _times("date", as_string=True)
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(low, 40)))
    return st.text(alphabet=string.ascii_letters + string.digits + " .,-_'", min_size=low, max_size=high)
