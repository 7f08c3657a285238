"""Pact's mismatches, explained in the provider's terms: what its schema says about the field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from harness.catalog import Provider
from harness.generation.schema import branches, resolve
from harness.pact._rules import pact_path

__all__ = ["describe_mismatch", "parse_path", "schema_at"]

_SEGMENT = re.compile(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+|\*)\]")
_VARIANT = re.compile(r"^Variant at index \d+ ")
_MISSING_KEYS = re.compile(r"missing the following keys: (.+)$")


def parse_path(path: str) -> list[str | int | None]:
    """``$.a['b-c'][0][*]`` as ``["a", "b-c", 0, None]`` (None: every item)."""
    out: list[str | int | None] = []
    for match in _SEGMENT.finditer(path[1:] if path.startswith("$") else path):
        key, quoted, index = match.groups()
        if key is not None:
            out.append(key)
        elif quoted is not None:
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            out.append(None if index == "*" else int(index))
    return out


def schema_at(provider: Provider, event: str, path: str) -> Mapping[str, Any] | None:
    """The schema node of the body at a Pact path (through ``$ref`` and ``anyOf``), or None when it has none."""
    schema = provider.event(event).schema
    resolver = provider.registry.resolver(base_uri=schema.get("$id", ""))
    node: Any = schema
    segments = parse_path(path)
    if provider.body.shape == "batch" and segments and not isinstance(segments[0], str):
        segments = segments[1:]  # the batch's item is the event
    for segment in segments:
        node, resolver = _solid(node, resolver, segment)
        if not isinstance(node, Mapping):
            return None
        if isinstance(segment, str):
            properties = node.get("properties", {})
            node = properties.get(segment, node.get("additionalProperties"))
        else:
            node = node.get("items")
        if node is None:
            return None
    node, resolver = _solid(node, resolver, None)
    return node if isinstance(node, Mapping) else None


def _solid(node: Any, resolver: Any, segment: str | int | None) -> tuple[Any, Any]:
    """The node with ``$ref`` followed and, for ``anyOf``, the branch that can hold ``segment``."""
    if not isinstance(node, Mapping):
        return node, resolver
    node, resolver = resolve(node, resolver)
    if isinstance(node, Mapping) and "anyOf" in node:
        for branch in branches(node):
            target, sub = resolve(branch, resolver) if isinstance(branch, Mapping) else (branch, resolver)
            if not isinstance(target, Mapping):
                continue
            if isinstance(segment, str) and segment in target.get("properties", {}):
                return target, sub
            if segment is not None and not isinstance(segment, str) and "items" in target:
                return target, sub
            if segment is None and target.get("type") != "null":
                return target, sub
    return node, resolver


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def describe_mismatch(provider: Provider, event: str, mismatch: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each (field, reason) a Pact mismatch stands for."""
    kind = str(mismatch.get("type", ""))
    text = str(mismatch.get("mismatch", "")).strip()
    if kind == "MetadataMismatch":
        key = str(mismatch.get("key", ""))
        if mismatch.get("actual") in (None, ""):
            return [(f"metadata {key}", f"{provider.id} sends no {key} header with {event}")]
        if key.lower() in _auth_headers(provider) and "to be equal to" in text:
            return [(f"metadata {key}", f"a fixed value; {provider.id} signs each delivery afresh (match it by regex)")]
        return [(f"metadata {key}", text)]
    path = str(mismatch.get("path", "$"))
    if _VARIANT.match(text):  # arrayContains: Pact names no field, only the expected item it did not find
        return [(path, f"no event in the {provider.id} batch matched the consumer's expected {event} event")]
    missing = _MISSING_KEYS.search(text)
    if missing:
        parent = schema_at(provider, event, path)
        return [(pact_path(path, key), _missing(provider, event, parent, key)) for key in _keys(missing.group(1))]
    node = schema_at(provider, event, path)
    expected = _json(mismatch.get("expected"))
    if node is not None and "enum" in node and expected not in node["enum"]:
        values = ", ".join(json.dumps(v) for v in node["enum"])
        return [(path, f"{json.dumps(expected)} is not a value {provider.id} sends (its values: {values})")]
    if node is not None and "const" in node and expected != node["const"]:
        return [(path, f"{provider.id} always sends {json.dumps(node['const'])} here, never {json.dumps(expected)}")]
    return [(path, text or kind)]


def _auth_headers(provider: Provider) -> set[str]:
    from harness.signing import scheme_for

    return {h.lower() for name in provider.auth.schemes for h in scheme_for(provider, name).headers}


def _keys(listed: str) -> list[str]:
    return [k.strip() for k in listed.split(",") if k.strip()]


def _missing(provider: Provider, event: str, parent: Mapping[str, Any] | None, key: str) -> str:
    if parent is None:
        return f"the consumer requires it and {provider.id} sent a body without it"
    if key in parent.get("properties", {}) or parent.get("additionalProperties") not in (None, False):
        if key not in parent.get("required", []):
            return f"the consumer requires it, and {provider.id} may leave it out (optional in its {event} schema)"
        return f"the consumer requires it and {provider.id} sent a body without it"
    return f"the consumer requires it, and {provider.id} never sends it (not in its {event} schema)"
