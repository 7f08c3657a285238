"""``drift --propose``: widened copies of a provider's schemas, written as a catalog overlay for review."""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from referencing.exceptions import Unresolvable

from harness.catalog import Provider
from harness.core.pointers import parse_pointer
from harness.credentials import Redactor
from harness.errors import ConfigError, UsageError
from harness.generation.schema import json_type
from harness.recording._drift import DriftReport, infer_schema, mask

__all__ = ["write_overlay"]

NOTE = "proposed by webhook-harness drift from recorded traffic; review before use"


def _segments(path: str) -> list[str]:
    return parse_pointer(path)


class _Editor:
    """Edits one event schema in place, inlining each $ref on the way to an edit so other events keep theirs."""

    def __init__(self, provider: Provider, schema: dict[str, Any], base: str) -> None:
        self.provider = provider
        self.schema = schema
        self.base = base

    def _inline(self, node: dict[str, Any], base: str) -> str:
        """Replace ``node``'s $ref by a copy of its target (refs inside made absolute); returns the base after."""
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return base
        try:
            resolved = self.provider.registry.resolver(base_uri=base).lookup(ref)
        except Unresolvable:
            return base
        if not isinstance(resolved.contents, dict):
            return base
        target_base = urljoin(base, ref).partition("#")[0]
        inlined = _absolute_refs(copy.deepcopy(resolved.contents), target_base)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node.clear()
        node.update(inlined)
        for key, value in siblings.items():
            if key == "properties" and isinstance(node.get("properties"), dict):
                node["properties"].update(value)
            else:
                node[key] = value
        node.pop("$id", None)
        node.pop("$schema", None)
        return self._inline(node, target_base) if "$ref" in node else base

    def locate(self, path: list[str]) -> dict[str, Any]:
        """The subschema that describes ``path`` (``*`` for array items), created if the schema has none."""
        node, base = self.schema, self.base
        base = self._inline(node, base)
        for segment in path:
            if segment == "*":
                child = node.get("items")
                if not isinstance(child, dict):
                    child = node["items"] = {}
            else:
                child = self._property(node, segment, base)
            node = child
            base = self._inline(node, base)
        return node

    def _property(self, node: dict[str, Any], name: str, base: str) -> dict[str, Any]:
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get(name), dict):
            found: dict[str, Any] = props[name]
            return found
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(keyword) or []:
                if isinstance(sub, dict):
                    self._inline(sub, base)
                    inner = sub.get("properties")
                    if isinstance(inner, dict) and isinstance(inner.get(name), dict):
                        branch: dict[str, Any] = inner[name]
                        return branch
        props = node.setdefault("properties", {})
        child: dict[str, Any] = props.setdefault(name, {})
        return child


def _absolute_refs(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        return {
            k: urljoin(base, v) if k == "$ref" and isinstance(v, str) else _absolute_refs(v, base)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_absolute_refs(v, base) for v in value]
    return value


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for keyword in ("allOf", "anyOf", "oneOf") for b in node.get(keyword) or [] if isinstance(b, dict)]


def _widen(node: dict[str, Any], keyword: str, branch: dict[str, Any], editor: _Editor) -> bool:
    """Where ``keyword`` lives only inside anyOf/oneOf branches, admit the new value as one more branch."""
    if keyword in node:
        return False
    for choice in ("anyOf", "oneOf"):
        if isinstance(node.get(choice), list):
            node[choice].append(branch)
            return True
    for sub in node.get("allOf") or []:
        if isinstance(sub, dict):
            editor._inline(sub, editor.base)
            if keyword in sub or any(isinstance(sub.get(c), list) for c in ("anyOf", "oneOf")):
                if not _widen(sub, keyword, branch, editor):
                    sub.pop(keyword, None)
                return True
    return False


def _relax(node: dict[str, Any], keyword: str, editor: _Editor, depth: int = 0) -> None:
    """Drop ``keyword`` (a pattern or format) here and in every branch."""
    node.pop(keyword, None)
    for branch in _branches(node) if depth < 8 else []:
        editor._inline(branch, editor.base)
        _relax(branch, keyword, editor, depth + 1)


def _widen_type(node: dict[str, Any], values: list[Any]) -> None:
    seen = {json_type(v) for v in values}
    declared = node.get("type")
    current = set(declared if isinstance(declared, list) else [declared] if isinstance(declared, str) else [])
    if "number" in current:
        seen.discard("integer")
    merged = sorted(current | seen)
    node["type"] = merged[0] if len(merged) == 1 else merged


def _apply(editor: _Editor, kind: str, path: str, values: list[Any], redact: Redactor) -> None:
    segments = _segments(path)
    if kind == "missing-required":
        parent = editor.locate(segments[:-1])
        if isinstance(parent.get("required"), list):
            parent["required"] = [n for n in parent["required"] if n != segments[-1]]
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in parent.get(keyword) or []:
                if isinstance(sub, dict) and isinstance(sub.get("required"), list):
                    sub["required"] = [n for n in sub["required"] if n != segments[-1]]
        return
    node = editor.locate(segments)
    if kind == "added":
        node.update(infer_schema(mask(values, redact)))
        node["description"] = NOTE
    elif kind == "enum-value":
        safe = [mask(v, redact) for v in values]
        if "const" not in node and _widen(node, "enum", {"enum": safe}, editor):
            return
        if "const" in node:
            node["enum"] = [node.pop("const")]
        allowed = node.setdefault("enum", [])
        for value in safe:
            if value not in allowed:
                allowed.append(value)
        if "type" in node:
            _widen_type(node, safe)
    elif kind == "type-changed":
        if not _widen(node, "type", infer_schema(mask(values, redact)), editor):
            _widen_type(node, values)
    elif kind == "pattern-mismatch":
        _relax(node, "pattern", editor)
    elif kind == "format-mismatch":
        _relax(node, "format", editor)


def _safe_name(event: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", event).strip("_") or "event"


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_overlay(
    provider: Provider, report: DriftReport, folder: str | Path, redact: Redactor, *, force: bool = False
) -> list[Path]:
    """Copy the provider's folder into ``folder/<id>`` and widen it for what the report saw; returns changed files.

    ``--schemas folder`` then loads the widened provider in place of the built-in one. An existing ``folder/<id>``
    is replaced only with ``force``.
    """
    target = Path(folder) / provider.id
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to replace it with the proposed schemas.")
    try:
        with tempfile.TemporaryDirectory() as scratch:  # the source may be the target (a second round of --propose)
            staged = Path(scratch) / provider.id
            shutil.copytree(provider.root, staged)
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(staged, target)
    except OSError as exc:
        raise ConfigError(f"Cannot write the proposed schemas to {target}: {exc.strerror or exc}.") from None
    changed: list[Path] = []
    for name, ev in sorted(report.events.items()):
        if not ev.violations and not ev.added:
            continue
        event = provider.events[name]
        schema = copy.deepcopy(event.schema)
        editor = _Editor(provider, schema, str(schema.get("$id") or event.schema_path.resolve().as_uri()))
        for finding in ev.violations.values():
            _apply(editor, finding.kind, finding.path, finding.values, redact)
        for finding in ev.added.values():
            _apply(editor, "added", finding.path, finding.values, redact)
        out = target / event.schema_path.relative_to(provider.root)
        _write_json(out, schema)
        changed.append(out)
    if report.unknown:
        profile_path = target / "profile.json"
        profile = json.loads(profile_path.read_text(encoding="utf-8"))
        for name, finding in report.unknown.items():
            if name == "(no event type)":
                continue
            stem = _safe_name(name)
            examples = mask(finding.values, redact)
            schema = infer_schema(examples)
            schema = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": name,
                "description": NOTE,
                "x-event-type": name,
                **schema,
            }
            _write_json(target / "events" / f"proposed_{stem}.schema.json", schema)
            _write_json(target / "samples" / f"proposed_{stem}.json", examples[0])
            profile["events"][name] = {
                "schema": f"events/proposed_{stem}.schema.json",
                "samples": [f"samples/proposed_{stem}.json"],
                "description": NOTE,
            }
            changed += [target / "events" / f"proposed_{stem}.schema.json"]
            changed += [target / "samples" / f"proposed_{stem}.json"]
        _write_json(profile_path, profile)
        changed.append(profile_path)
    return changed
