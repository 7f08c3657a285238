"""An event's JSON Schema as a Pact body: an example the provider may send and matching rules no more than it allows.

Pact has no optional keys (every key of the expected body must be in the actual one) and extra actual keys are
fine, so the body keeps only what the schema requires; a value that may be an object or null, a value of several
shapes, or any value at all is left out, since Pact can express none of them. The rules: a regex for a ``pattern``
(Pact matches a regex against the whole string, JSON Schema anywhere in it) or an ``enum`` of strings, ISO 8601
for ``date-time``, type matchers for open values, ``min``/``max`` for arrays, and ``null`` joined with OR where the
schema allows it. A batch (SendGrid) is an array that contains an event of the type among any others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from referencing._core import Resolver

from harness.catalog import Provider
from harness.generation.schema import branches, json_type, kinds, resolve

__all__ = ["DATE", "ISO_8601", "BodyContract", "body_contract", "full_match", "pact_path", "required_only"]

ISO_8601 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
_FORMATS = {"date-time": ISO_8601, "date": DATE}
_EXAMPLES = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_META = re.compile(r"[\\.^$|?*+()\[\]{}]")
_DROP = object()


@dataclass
class BodyContract:
    """An example body and its Pact matching rules, keyed by Pact path (``$.data.object.status``)."""

    body: Any
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)


def pact_path(parent: str, key: str | int | None) -> str:
    """A child's Pact path: ``.key``, ``['odd-key']`` or ``[*]`` for every array item (``key`` None)."""
    if key is None:
        return f"{parent}[*]"
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENT.match(key):
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


def body_contract(provider: Provider, event: str, example: Any) -> BodyContract:
    """The Pact body of one event type from a valid ``example`` of it (for a batch provider: a batch holding it)."""
    schema = provider.event(event).schema
    resolver = provider.registry.resolver(base_uri=schema.get("$id", ""))
    contract = BodyContract(None)
    walker = _Walker(contract.rules)
    if provider.body.shape == "batch":
        # A batch mixes event types: the pact asks for at least one event of this type among any others.
        item_rules: dict[str, dict[str, Any]] = {}
        item = _Walker(item_rules).walk(schema, resolver, example, "$")
        contract.body = [{} if item is _DROP else item]
        variant = {"index": 0, "rules": item_rules, "generators": {}}
        contract.rules["$"] = _rule({"match": "arrayContains", "variants": [variant]})
    else:
        body = walker.walk(schema, resolver, example, "$")
        contract.body = {} if body is _DROP else body
    return contract


def required_only(provider: Provider, event: str, payload: Any) -> Any:
    """``payload`` with every key its schema does not require left out, at every depth: what the provider may send."""
    schema = provider.event(event).schema
    return _required_only(schema, provider.registry.resolver(base_uri=schema.get("$id", "")), payload)


def _required_only(schema: Any, resolver: Resolver, value: Any) -> Any:
    schema, resolver = resolve(schema, resolver) if isinstance(schema, Mapping) else (schema, resolver)
    if not isinstance(schema, Mapping):
        return value
    if "anyOf" in schema:
        for branch in branches(schema):
            if isinstance(branch, Mapping) and json_type(value) in _admitted(branch, resolver):
                return _required_only(branch, resolver, value)
        return value
    if isinstance(value, dict):
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        return {k: _required_only(properties.get(k, True), resolver, v) for k, v in value.items() if k in required}
    if isinstance(value, list):
        return [_required_only(schema.get("items", True), resolver, item) for item in value]
    return value


def _admitted(schema: Mapping[str, Any], resolver: Resolver) -> set[str]:
    node, _ = resolve(schema, resolver)
    if not isinstance(node, Mapping):
        return {"object", "array", "string", "integer", "number", "boolean", "null"}
    found = set(kinds(node))
    if "number" in found:
        found.add("integer")
    return found


def full_match(pattern: str) -> str:
    """A JSON Schema ``pattern`` (found anywhere in the string) as a Pact regex (Pact matches the whole string)."""
    head = "" if pattern.startswith("^") else r"[\s\S]*"
    tail = "" if pattern.endswith("$") and not pattern.endswith("\\$") else r"[\s\S]*"
    return f"{head}(?:{pattern}){tail}" if head or tail else pattern


def _escape(text: str) -> str:
    """A literal for both Python's and Pact's (Rust) regex engines: only the metacharacters escaped."""
    return _META.sub(lambda m: "\\" + m.group(0), text)


def _rule(*matchers: dict[str, Any], combine: str = "AND") -> dict[str, Any]:
    return {"combine": combine, "matchers": list(matchers)}


class _Walker:
    """One walk over a schema and an example of it, filling the rules as it goes."""

    def __init__(self, rules: dict[str, dict[str, Any]]) -> None:
        self.rules = rules

    def walk(self, schema: Any, resolver: Resolver, value: Any, path: str) -> Any:
        """The example kept at ``path`` (or _DROP), with its rules recorded."""
        if not isinstance(schema, Mapping):
            return _DROP  # ``true``: any value at all
        schema, resolver = resolve(schema, resolver)
        if not isinstance(schema, Mapping):
            return _DROP
        if "const" in schema:
            return schema["const"]  # no rule: equality
        if "enum" in schema:
            return self._enum(list(schema["enum"]), value, path)
        if "anyOf" in schema:
            options = [resolve(b, resolver)[0] if isinstance(b, Mapping) else b for b in branches(schema)]
            solid = [b for b in options if not (isinstance(b, Mapping) and kinds(b) == ["null"])]
            if len(solid) != 1:
                return _DROP  # several shapes: Pact cannot say "one of these"
            nullable = len(solid) < len(options)
            return self._typed(solid[0], resolver, value, path, nullable)
        return self._typed(schema, resolver, value, path, False)

    def _enum(self, options: list[Any], value: Any, path: str) -> Any:
        present = [o for o in options if o is not None]
        if not present or any(isinstance(o, dict | list | bool) for o in present):
            return _DROP
        regex = {"match": "regex", "regex": "^(" + "|".join(_escape(str(o)) for o in present) + ")$"}
        if all(isinstance(o, str) for o in present):
            kind = {"match": "type"}
        elif all(isinstance(o, int) for o in present):
            kind = {"match": "integer"}
        else:
            return _DROP
        if len(present) < len(options):
            self.rules[path] = _rule(regex, {"match": "null"}, combine="OR")
        else:
            self.rules[path] = _rule(kind, regex)
        return value if value in present else present[0]

    def _typed(self, schema: Mapping[str, Any], resolver: Resolver, value: Any, path: str, nullable: bool) -> Any:
        if "enum" in schema or "const" in schema or "anyOf" in schema or "$ref" in schema:
            if nullable:
                return _DROP  # a nested choice that may also be null: too many shapes for one rule
            return self.walk(schema, resolver, value, path)
        found = kinds(schema)
        solid = [k for k in found if k != "null"]
        nullable = nullable or len(solid) < len(found)
        if len(solid) == 2 and set(solid) == {"integer", "number"}:
            solid = ["number"]
        if not solid:
            self.rules[path] = _rule({"match": "null"})
            return None
        if len(solid) != 1:
            return _DROP
        kind = solid[0]
        if kind == "object":
            return _DROP if nullable or not isinstance(value, dict) else self._object(schema, resolver, value, path)
        if kind == "array":
            return _DROP if nullable or not isinstance(value, list) else self._array(schema, resolver, value, path)
        matcher, example = _scalar(schema, kind)
        if matcher is None:
            return _DROP
        self.rules[path] = _rule(matcher, {"match": "null"}, combine="OR") if nullable else _rule(matcher)
        return value if value is not None and json_type(value) in _accepts(kind) else example

    def _object(self, schema: Mapping[str, Any], resolver: Resolver, value: dict[str, Any], path: str) -> Any:
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        out: dict[str, Any] = {}
        for key in schema.get("required", []):
            if key not in value:
                continue
            kept = self.walk(properties.get(key, extra), resolver, value[key], pact_path(path, key))
            if kept is not _DROP:
                out[key] = kept
        return out

    def _array(self, schema: Mapping[str, Any], resolver: Resolver, value: list[Any], path: str) -> Any:
        low, high = int(schema.get("minItems", 0)), schema.get("maxItems")
        if not value:
            return [] if schema.get("maxItems") == 0 else _DROP  # no item to learn the rules from
        item = self.walk(schema.get("items", True), resolver, value[0], pact_path(path, None))
        if item is _DROP:
            return _DROP
        matcher: dict[str, Any] = {"match": "type", "min": low}
        if high is not None:
            matcher["max"] = int(high)
        self.rules[path] = _rule(matcher)
        return [item] * max(1, low)


def _accepts(kind: str) -> set[str]:
    return {"number": {"number", "integer"}}.get(kind, {kind})


def _scalar(schema: Mapping[str, Any], kind: str) -> tuple[dict[str, Any] | None, Any]:
    """The matcher for a string, number or boolean node, and an example it accepts (for a null example)."""
    if kind == "string":
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            return {"match": "regex", "regex": full_match(pattern)}, _example_of(pattern)
        form = schema.get("format")
        if form in _FORMATS:
            return {"match": "regex", "regex": _FORMATS[form]}, _EXAMPLES[form]
        return {"match": "type"}, _EXAMPLES.get(str(form), "text")
    if kind == "integer":
        return {"match": "integer"}, int(schema.get("minimum", 0))
    if kind == "number":
        return {"match": "number"}, float(schema.get("minimum", 0))
    if kind == "boolean":
        return {"match": "type"}, False
    return None, None


def _example_of(pattern: str) -> str:
    import random

    from harness.generation.regex import UnsupportedPattern, seeded_regex

    try:
        return seeded_regex(pattern)(random.Random(0))
    except (UnsupportedPattern, re.error):  # one the generator refuses: any text (the sample normally has a value)
        return "text"
