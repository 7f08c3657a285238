"""OpenAPI / AsyncAPI schema objects to JSON Schema 2020-12, every referenced schema moved into one ``$defs`` file.

Converted: 3.0 ``nullable`` (a type list, or ``anyOf`` with null), ``example`` (``examples``), boolean
``exclusiveMinimum``/``exclusiveMaximum`` (the numeric 2020-12 form), ``discriminator``, ``xml``, ``externalDocs``
and vendor ``x-`` keys (dropped: annotations the generator does not use), ``oneOf`` (kept, and copied to ``anyOf``,
the branches the generator draws from), ``allOf`` (intersected into one schema: properties merged,
``const``/``enum``/``type`` and bounds narrowed; parts that contradict are an error naming the pointer).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from harness.errors import SchemaLoadError
from harness.importers._document import Documents

__all__ = ["SchemaConflict", "SchemaConverter"]

_DROPPED = frozenset({"discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly", "$schema", "$id"})
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_MAX_DEPTH = 64


class SchemaConverter:
    """Converts schemas found in a spec; referenced schemas become ``$defs`` entries of ``defs.schema.json``."""

    def __init__(self, docs: Documents) -> None:
        self.docs = docs
        self.defs: dict[str, Any] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._pending: list[tuple[str, str, str]] = []

    def event_schema(self, node: Any, base: str, where: str) -> Any:
        """A schema as an event file holds it (references point into ``../defs.schema.json``)."""
        defs, names = dict(self.defs), dict(self._names)
        try:
            out = self._convert(node, base, where, "../defs.schema.json#/$defs/", 0)
            self._drain()
        except SchemaConflict:
            self.defs, self._names, self._pending = defs, names, []  # as before this schema: nothing half-converted
            raise
        return out

    def _drain(self) -> None:
        while self._pending:
            name, location, fragment = self._pending.pop()
            raw, _ = self.docs.resolve("#" + fragment, location, f"{location}#{fragment}")
            self.defs[name] = self._convert(raw, location, f"{location}#{fragment}", "#/$defs/", 0)

    def _def_name(self, location: str, fragment: str) -> str:
        key = (location, fragment)
        found = self._names.get(key)
        if found is None:
            stem = _NAME.sub("_", fragment.rstrip("/").rsplit("/", 1)[-1] or "schema") or "schema"
            found, n = stem, 2
            while found in self.defs or found in self._names.values():
                found, n = f"{stem}_{n}", n + 1
            self._names[key] = found
            self.defs[found] = {}  # reserved; filled by _drain
            self._pending.append((found, location, fragment))
        return found

    def _convert(self, node: Any, base: str, where: str, prefix: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise SchemaLoadError(f"{where}: schema nested more than {_MAX_DEPTH} levels deep.")
        if isinstance(node, list):
            return [self._convert(item, base, f"{where}/{i}", prefix, depth + 1) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise SchemaLoadError(f"{where}/$ref: must be a string.")
            location, fragment = self.docs.target(ref, base, f"{where}/$ref")
            self.docs.resolve(ref, base, f"{where}/$ref")  # fails early, naming the place, if it does not resolve
            out: dict[str, Any] = {"$ref": prefix + self._def_name(location, fragment)}
            siblings = {k: v for k, v in node.items() if k in ("description", "title")}
            return {**out, **siblings}
        out = {}
        for key, value in node.items():
            if key in _DROPPED or key.startswith("x-"):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = self._properties(value, node.get("required"), base, f"{where}/{key}", prefix, depth)
            elif key in ("$defs", "definitions", "patternProperties", "dependentSchemas"):
                out[key] = {
                    k: self._convert(v, base, f"{where}/{key}/{k}", prefix, depth + 1) for k, v in value.items()
                }
            elif key in ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"):
                out[key] = self._convert(value, base, f"{where}/{key}", prefix, depth + 1)
            elif key in ("anyOf", "prefixItems"):
                out[key] = self._convert(value, base, f"{where}/{key}", prefix, depth + 1)
            elif key == "oneOf":  # kept for validation (exactly one branch); anyOf is what the generator draws from
                out["oneOf"] = self._convert(value, base, f"{where}/{key}", prefix, depth + 1)
                out.setdefault("anyOf", out["oneOf"])
            elif key == "allOf":
                continue  # merged below
            elif key == "example":
                out.setdefault("examples", [value])
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                if value and bound in node:
                    out[key] = node[bound]
            else:
                out[key] = copy.deepcopy(value)
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if node.get(key) is True:
                out.pop(bound, None)
        if "allOf" in node:
            out = self._merge_all_of(out, node["allOf"], base, f"{where}/allOf", prefix, depth)
        _narrow_branches(out)
        if node.get("nullable") is True:
            out.pop("nullable", None)
            out = _nullable(out)
        else:
            out.pop("nullable", None)
        return out

    def _properties(
        self, props: dict[str, Any], required: Any, base: str, where: str, prefix: str, depth: int
    ) -> dict[str, Any]:
        """Converted properties; an optional one whose ``allOf`` contradicts itself can only be absent (``false``)."""
        out: dict[str, Any] = {}
        for name, sub in props.items():
            try:
                out[name] = self._convert(sub, base, f"{where}/{name}", prefix, depth + 1)
            except SchemaConflict:
                if isinstance(required, list) and name in required:
                    raise
                out[name] = False
        return out

    def _merge_all_of(
        self, out: dict[str, Any], parts: Any, base: str, where: str, prefix: str, depth: int
    ) -> dict[str, Any]:
        """One object schema with the parts' properties and required names (referenced parts inlined)."""
        if not isinstance(parts, list):
            raise SchemaLoadError(f"{where}: allOf must be a list.")
        merged = dict(out)
        for i, part in enumerate(parts):
            here = f"{where}/{i}"
            if isinstance(part, dict) and "$ref" in part:
                raw, location = self.docs.resolve(part["$ref"], base, f"{here}/$ref")
                part_out = self._convert(raw, location, here, prefix, depth + 1)
            else:
                part_out = self._convert(part, base, here, prefix, depth + 1)
            if isinstance(part_out, dict):
                merged = _intersect(merged, part_out, here)
        _narrow_branches(merged)
        return merged


_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


class SchemaConflict(SchemaLoadError):
    """Parts of an ``allOf`` that no value satisfies together."""


def _intersect(a: dict[str, Any], b: dict[str, Any], where: str) -> dict[str, Any]:
    """What satisfies both schemas, keyword by keyword; constraints that contradict are an error naming ``where``."""
    if "$ref" in a or "$ref" in b:
        keep, other = (a, b) if "$ref" not in a else (b, a)
        if "$ref" in keep:  # two references: keep the first (the generator cannot intersect them)
            return a
        # a reference and an inline schema: the inline one's value constraints are the narrower ones
        return keep if any(k in keep for k in ("const", "enum", "properties")) else {**other, **keep}
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, dict):
            props = dict(out[key])
            for name, sub in value.items():
                here = f"{where}/properties/{name}"
                both = isinstance(props.get(name), dict) and isinstance(sub, dict)
                try:
                    props[name] = _intersect(props[name], sub, here) if both else props.get(name, sub)
                except SchemaConflict:
                    if name in (*a.get("required", ()), *b.get("required", ())):
                        raise
                    props[name] = False  # optional and unsatisfiable: it can only be absent
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            mine = {out[key]} if isinstance(out[key], str) else set(out[key])
            theirs = {value} if isinstance(value, str) else set(value)
            if "integer" in mine | theirs and "number" in mine | theirs:
                mine |= {"integer"} if "number" in mine else set()
                theirs |= {"integer"} if "number" in theirs else set()
            common = [t for t in (out[key] if isinstance(out[key], list) else [out[key]]) if t in mine & theirs]
            common += [t for t in sorted(mine & theirs) if t not in common]
            if not common:
                raise SchemaConflict(f"{where}: allOf parts contradict: type {out[key]!r} and {value!r}.")
            out[key] = common[0] if len(common) == 1 else common
        elif key == "const":
            if out[key] != value:
                raise SchemaConflict(f"{where}: allOf parts contradict: const {out[key]!r} and {value!r}.")
        elif key == "enum":
            common_values = [v for v in out[key] if v in value]
            if not common_values:
                raise SchemaConflict(f"{where}: allOf parts contradict: enum {out[key]!r} and {value!r}.")
            out[key] = common_values
        elif key in _LOWER:
            out[key] = max(out[key], value)
        elif key in _UPPER:
            out[key] = min(out[key], value)
        elif key == "items" and isinstance(value, dict) and isinstance(out[key], dict):
            try:
                out[key] = _intersect(out[key], value, f"{where}/{key}")
            except SchemaConflict:
                out["maxItems"] = 0  # no item satisfies both: only the empty array does (GitHub's fork topics)
        elif key == "additionalProperties" and isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _intersect(out[key], value, f"{where}/{key}")
        # other keywords (description, format, pattern, ...): the first part's stands
    if "const" in out and "enum" in out:
        if out["const"] not in out["enum"]:
            raise SchemaConflict(f"{where}: allOf parts contradict: const {out['const']!r} not in {out['enum']!r}.")
        del out["enum"]
    for low, high in (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems")):
        if low in out and high in out and out[low] > out[high]:
            raise SchemaConflict(f"{where}: allOf parts contradict: {low} {out[low]} > {high} {out[high]}.")
    _narrow_branches(out)
    return out


def _types(schema: Any) -> set[str] | None:
    kind = schema.get("type") if isinstance(schema, dict) and "$ref" not in schema else None
    found = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else None
    return found | {"integer"} if found is not None and "number" in found else found


def _narrow_branches(schema: dict[str, Any]) -> None:
    """Drop ``anyOf``/``oneOf`` branches whose type the node's own ``type`` excludes (the generator draws branches)."""
    outer = _types(schema)
    if outer is None:
        return
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            kept = [b for b in branches if (_types(b) is None) or (_types(b) or set()) & outer]
            if kept and len(kept) < len(branches):
                schema[key] = kept


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        out = {**schema, "type": [kind, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"] if "null" not in kind else kind}
    return {"anyOf": [schema, {"type": "null"}]}
