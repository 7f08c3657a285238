"""Drift: recorded bodies judged against the catalog's schemas, grouped per event type and JSON path."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from jsonschema.exceptions import ValidationError
from referencing.exceptions import Unresolvable

from harness.catalog import Provider
from harness.credentials import Redactor
from harness.generation.schema import json_type
from harness.recording._convert import parse_body
from harness.recording._format import Record

__all__ = ["KINDS", "DriftReport", "EventDrift", "Finding", "analyse_drift", "mask"]

KINDS = {
    "missing-required": "missing required field",
    "type-changed": "type changed",
    "enum-value": "enum value not in the schema",
    "format-mismatch": "format mismatch",
    "pattern-mismatch": "pattern mismatch",
    "added": "field not in the schema",
    "not-json": "body is not JSON",
}
EXAMPLE_LIMIT = 120
_SECRETISH = re.compile(r"(?i)(secret|password|passwd|token|authorization|api[_-]?key|signature|credential)")


def mask(value: Any, redact: Redactor, depth: int = 0) -> Any:
    """A value safe to show: known secrets redacted, strings under secret-sounding keys replaced by ``***``."""
    if depth > 40:
        return "…"
    if isinstance(value, dict):
        return {
            k: "***" if _SECRETISH.search(str(k)) and isinstance(v, str) else mask(v, redact, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, redact, depth + 1) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _example(value: Any, redact: Redactor) -> str:
    text = json.dumps(mask(value, redact), ensure_ascii=False)
    return text if len(text) <= EXAMPLE_LIMIT else text[: EXAMPLE_LIMIT - 1] + "…"


@dataclass
class Finding:
    """One kind of drift at one path: how often, one redacted example, and the raw values seen (for --propose)."""

    path: str
    kind: str
    count: int = 0
    example: str = ""
    detail: str = ""
    values: list[Any] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The report entry."""
        return {
            "path": self.path,
            "kind": self.kind,
            "description": KINDS.get(self.kind, self.kind),
            "count": self.count,
            "example": self.example,
            "detail": self.detail,
        }


@dataclass
class EventDrift:
    """What one event type's deliveries looked like against its schema."""

    event: str
    count: int = 0
    valid: int = 0
    violations: dict[tuple[str, str], Finding] = field(default_factory=dict)
    added: dict[str, Finding] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report entry."""
        return {
            "count": self.count,
            "schema_valid": self.valid,
            "violations": [f.to_json() for f in self.violations.values()],
            "added": [f.to_json() for f in self.added.values()],
        }


@dataclass
class DriftReport:
    """Per event type: counts, violations by path and kind, added fields; plus unknown event types."""

    provider: str
    deliveries: int = 0
    events: dict[str, EventDrift] = field(default_factory=dict)
    unknown: dict[str, Finding] = field(default_factory=dict)
    unreadable: list[Finding] = field(default_factory=list)
    strict: bool = False
    forged: int = 0

    @property
    def violation_count(self) -> int:
        """Deliveries' events that broke their schema, plus bodies that are not JSON."""
        return sum(e.count - e.valid for e in self.events.values()) + sum(f.count for f in self.unreadable)

    @property
    def exit_code(self) -> int:
        """1 on any schema violation; with ``strict`` also on added fields and unknown event types."""
        if self.violation_count:
            return 1
        if self.strict and (self.unknown or any(e.added for e in self.events.values())):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        """The JSON report."""
        from harness import __version__

        return {
            "tool": {"name": "webhook-harness", "version": __version__},
            "command": "drift",
            "provider": self.provider,
            "strict": self.strict,
            "exit_code": self.exit_code,
            "deliveries": self.deliveries,
            "skipped_failed_verification": self.forged,
            "events": {name: e.to_json() for name, e in sorted(self.events.items())},
            "unknown_event_types": [
                {"event": f.path, "count": f.count, "example": f.example} for f in self.unknown.values()
            ],
            "unreadable": [f.to_json() | {"source": f.detail} for f in self.unreadable],
        }

    def render(self) -> str:
        """The terminal text."""
        forged = f" ({self.forged} that failed verification left out)" if self.forged else ""
        lines = [f"webhook-harness drift: {self.provider}, {self.deliveries} deliveries{forged}"]
        for name, ev in sorted(self.events.items()):
            lines.append(f"  {name:<36} {ev.count:>6} events  {ev.valid:>6} schema-valid")
            for f in ev.violations.values():
                shown = f"  {f.detail}  e.g. {f.example}" if f.kind != "missing-required" else ""
                lines.append(f"    VIOLATION {f.kind:<17} {f.path or '/'}  x{f.count}{shown}")
            for f in ev.added.values():
                label = "ADDED" if self.strict else "added"
                lines.append(f"    {label:<9} {'new field':<17} {f.path}  x{f.count}  e.g. {f.example}")
        for f in self.unknown.values():
            lines.append(f"  unknown event type {f.path!r}: {f.count} events, e.g. {f.example}")
        for f in self.unreadable:
            lines.append(f"  {f.detail}: {KINDS['not-json']}")
        violations = self.violation_count
        added = sum(len(e.added) for e in self.events.values())
        lines.append(
            f"{violations} events violate the schema, {added} added fields, {len(self.unknown)} unknown event types"
            + (" (strict)" if self.strict else "")
        )
        return "\n".join(lines)


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/*" if isinstance(p, int) else "/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors that say what is wrong: for anyOf/oneOf, those of the branch that came closest."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
        best = min(branches.values(), key=len)
        for sub in best:
            yield from _leaves(sub)
        return
    yield error


def _classify(error: ValidationError) -> list[tuple[str, str, Any, str]]:
    """(path, kind, example value, detail) for one leaf error."""
    path = list(error.absolute_path)
    keyword = str(error.validator)
    if keyword == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        wanted = error.validator_value if isinstance(error.validator_value, list) else []
        return [(_pointer([*path, name]), "missing-required", None, "") for name in wanted if name not in present]
    if keyword == "type":
        return [(_pointer(path), "type-changed", error.instance, f"expected {error.validator_value}")]
    if keyword in ("enum", "const"):
        value: Any = error.validator_value
        allowed: list[Any] = list(value) if keyword == "enum" and isinstance(value, list) else [value]
        shown = ", ".join(json.dumps(v) for v in allowed[:6])
        return [(_pointer(path), "enum-value", error.instance, f"allowed: {shown}")]
    if keyword == "format":
        return [(_pointer(path), "format-mismatch", error.instance, f"format {error.validator_value}")]
    if keyword == "pattern":
        return [(_pointer(path), "pattern-mismatch", error.instance, f"pattern {error.validator_value}")]
    return [(_pointer(path), keyword, error.instance, f"{keyword} {json.dumps(error.validator_value)[:60]}")]


class _Walker:
    """Finds fields a schema does not declare, following $ref, allOf, anyOf and oneOf."""

    def __init__(self, provider: Provider, schema: Mapping[str, Any], base: str) -> None:
        self.provider = provider
        self.root = schema
        self.base = base
        self._merged: dict[tuple[int, str], tuple[Mapping[str, Any], list[tuple[Mapping[str, Any], str]]]] = {}

    def _resolve(self, schema: Mapping[str, Any], base: str) -> list[tuple[Mapping[str, Any], str]]:
        """The schema and every subschema it merges in, with their base URIs (memoised: schemas do not change)."""
        key = (id(schema), base)
        hit = self._merged.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        out = self._expand(schema, base)
        self._merged[key] = (schema, out)
        return out

    def _expand(self, schema: Mapping[str, Any], base: str) -> list[tuple[Mapping[str, Any], str]]:
        out = [(schema, base)]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = urljoin(base, ref)
            try:
                resolved = self.provider.registry.resolver(base_uri=base).lookup(ref)
            except Unresolvable:
                return out
            if isinstance(resolved.contents, Mapping):
                out += self._resolve(resolved.contents, target.partition("#")[0])
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(keyword) or []:
                if isinstance(sub, Mapping):
                    out += self._resolve(sub, base)
        return out

    def added(self, value: Any) -> Iterator[tuple[str, Any]]:
        """(path, value) of each field not declared anywhere in the schema."""
        yield from self._walk(self.root, self.base, value, [], 0)

    def _walk(self, schema: Any, base: str, value: Any, path: list[Any], depth: int) -> Iterator[tuple[str, Any]]:
        if not isinstance(schema, Mapping) or depth > 40:
            return
        parts = self._resolve(schema, base)
        if isinstance(value, dict):
            props: dict[str, tuple[Mapping[str, Any], str]] = {}
            open_schemas: list[tuple[Mapping[str, Any], str]] = []
            patterns: list[str] = []
            for sub, sub_base in parts:
                for name, child in (sub.get("properties") or {}).items():
                    props.setdefault(name, (child, sub_base))
                patterns += list(sub.get("patternProperties") or {})
                extra = sub.get("additionalProperties")
                if isinstance(extra, Mapping):
                    open_schemas.append((extra, sub_base))
            for name, child_value in value.items():
                if name in props:
                    yield from self._walk(*props[name][:1], props[name][1], child_value, [*path, name], depth + 1)
                elif any(re.search(p, name) for p in patterns):
                    continue
                elif open_schemas:
                    yield from self._walk(open_schemas[0][0], open_schemas[0][1], child_value, [*path, name], depth + 1)
                else:
                    yield _pointer([*path, name]), child_value
        elif isinstance(value, list):
            for sub, sub_base in parts:
                items = sub.get("items")
                if isinstance(items, Mapping):
                    for child in value:
                        yield from self._walk(items, sub_base, child, [*path, 0], depth + 1)
                    break


def _event_items(provider: Provider, payload: Any) -> list[Any]:
    if provider.body.shape == "batch" and isinstance(payload, list):
        return payload
    return [payload]


def _base_uri(provider: Provider, event: str) -> str:
    ev = provider.events[event]
    return str(ev.schema.get("$id") or ev.schema_path.resolve().as_uri())


def analyse_drift(
    provider: Provider, records: Iterable[Record], *, redact: Redactor | None = None, strict: bool = False
) -> DriftReport:
    """Validate every recorded event against its event type's schema and group what does not fit."""
    from harness.deliveries import event_type_of

    redact = redact or Redactor()
    report = DriftReport(provider.id, strict=strict)
    walkers: dict[str, _Walker] = {}
    for record in records:
        report.deliveries += 1
        if record.verified is False:  # not the provider's: a forgery says nothing about its payloads
            report.forged += 1
            continue
        payload = parse_body(record.body, provider)
        if payload is None and record.body.strip() != b"null":
            report.unreadable.append(Finding("", "not-json", 1, "", record.source or f"delivery {report.deliveries}"))
            continue
        for item in _event_items(provider, payload):
            name = event_type_of(provider, record.headers, [item] if provider.body.shape == "batch" else item)
            if name is None or name not in provider.events:
                key = name if name is not None else "(no event type)"
                found = report.unknown.setdefault(key, Finding(key, "unknown-event", example=_example(item, redact)))
                found.count += 1
                if len(found.values) < 20:
                    found.values.append(item)
                continue
            ev = report.events.setdefault(name, EventDrift(name))
            ev.count += 1
            errors = list(provider.validator(name).iter_errors(item))
            if not errors:
                ev.valid += 1
            for error in errors:
                for leaf in _leaves(error):
                    for path, kind, value, detail in _classify(leaf):
                        finding = ev.violations.get((path, kind))
                        if finding is None:
                            example = "(absent)" if kind == "missing-required" else _example(value, redact)
                            finding = ev.violations[(path, kind)] = Finding(path, kind, 0, example, redact(detail))
                        finding.count += 1
                        if kind != "missing-required" and len(finding.values) < 20:
                            finding.values.append(value)
            walker = walkers.get(name)
            if walker is None:
                walker = walkers[name] = _Walker(provider, provider.events[name].schema, _base_uri(provider, name))
            for path, value in walker.added(item):
                finding = ev.added.setdefault(path, Finding(path, "added", example=_example(value, redact)))
                finding.count += 1
                if len(finding.values) < 20:
                    finding.values.append(value)
    return report


def infer_schema(values: Iterable[Any], depth: int = 0) -> dict[str, Any]:
    """A permissive schema that accepts every value seen: their types, and for objects their fields."""
    values = list(values)
    types = sorted({json_type(v) for v in values})
    if "integer" in types and "number" in types:
        types.remove("integer")
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    objects = [v for v in values if isinstance(v, dict)]
    if objects and depth < 12:
        names: dict[str, list[Any]] = {}
        for obj in objects:
            for k, v in obj.items():
                names.setdefault(k, []).append(v)
        out["properties"] = {k: infer_schema(vs, depth + 1) for k, vs in names.items()}
    arrays = [item for v in values if isinstance(v, list) for item in v]
    if arrays and depth < 12:
        out["items"] = infer_schema(arrays, depth + 1)
    return out
