"""Negative strategies: schema-invalid payloads, malformed bodies, and novel-but-valid deliveries."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from referencing._core import Resolver

from harness.catalog import Catalog, Provider
from harness.core.models import Delivery
from harness.core.pointers import parse_pointer, set_pointer
from harness.deliveries import build_delivery
from harness.generation.schema import branches, json_type, kinds, resolve
from harness.strategies._valid import provider_of, typed_payloads

__all__ = [
    "NOVEL_EVENT",
    "InvalidPayload",
    "MalformedBody",
    "invalid_payloads",
    "malformed_bodies",
    "novel_deliveries",
]

NOVEL_EVENT = "x-harness.novel_event"
_MAX_DEPTH = 4
_TRIES = 8


@dataclass(frozen=True, slots=True)
class InvalidPayload:
    """An event payload that fails its schema, and why."""

    event: str
    payload: Any
    reason: str


@dataclass(frozen=True, slots=True)
class MalformedBody:
    """Body bytes no provider would send as a valid event: bad JSON, empty, wrong content type, oversized."""

    body: bytes
    content_type: str
    reason: str


Path = tuple[str, ...]


def _required_paths(schema: Any, resolver: Resolver, prefix: Path = ()) -> list[tuple[Path, Any, Resolver]]:
    """(path, subschema, its resolver) for every required property, descending through required objects."""
    schema, resolver = resolve(schema, resolver) if isinstance(schema, Mapping) else (schema, resolver)
    if not isinstance(schema, Mapping):
        return []
    out: list[tuple[Path, Any, Resolver]] = []
    props = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name in props:
            out.append(((*prefix, name), props[name], resolver))
            if len(prefix) < _MAX_DEPTH - 1:
                out.extend(_required_paths(props[name], resolver, (*prefix, name)))
    return out


def _enum_paths(schema: Any, resolver: Resolver, payload: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    """(path, enum or const node) for every enum/const property present in ``payload``."""
    schema, resolver = resolve(schema, resolver) if isinstance(schema, Mapping) else (schema, resolver)
    if not isinstance(schema, Mapping) or not isinstance(payload, dict):
        return []
    out: list[tuple[Path, Any]] = []
    for name, sub in schema.get("properties", {}).items():
        if name not in payload or not isinstance(sub, Mapping):
            continue
        node, sub_resolver = resolve(sub, resolver)
        if isinstance(node, Mapping) and ("enum" in node or "const" in node):
            out.append(((*prefix, name), node))
        elif len(prefix) < _MAX_DEPTH - 1:
            out.extend(_enum_paths(node, sub_resolver, payload[name], (*prefix, name)))
    return out


def _set(value: Any, path: Path, new: Any, delete: bool = False) -> Any:
    """A copy of ``value`` with the member at ``path`` replaced (or deleted); untouched where the path is absent."""
    if not path:
        return new
    if isinstance(value, list) and path[0].isdigit() and int(path[0]) < len(value):  # an array element: /events/0
        i, items = int(path[0]), list(value)
        if len(path) == 1 and delete:
            del items[i]
        else:
            items[i] = _set(items[i], path[1:], new, delete)
        return items
    if not isinstance(value, dict) or path[0] not in value:
        return value
    out = dict(value)
    if len(path) == 1 and delete:
        del out[path[0]]
    else:
        out[path[0]] = _set(out[path[0]], path[1:], new, delete)
    return out


def _has(value: Any, path: Path) -> bool:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _admitted(sub: Any, resolver: Resolver | None) -> set[str]:
    """The JSON types a node admits, through ``$ref`` and ``anyOf``."""
    if not isinstance(sub, Mapping):
        return {"null", "boolean", "integer", "number", "string", "array", "object"}
    if "$ref" in sub and resolver is not None:
        sub, resolver = resolve(sub, resolver)
        return _admitted(sub, resolver)
    if "const" in sub or "enum" in sub:
        values = [sub["const"]] if "const" in sub else list(sub["enum"])
        return {json_type(v) for v in values} | ({"number"} if any(type(v) is int for v in values) else set())
    if "anyOf" in sub:
        return set().union(*(_admitted(b, resolver) for b in branches(sub)))
    found = set(kinds(sub))
    return found | {"integer"} if "number" in found else found


_WRONG_VALUES: tuple[tuple[str, Any], ...] = (
    ("integer", 12345),
    ("string", "x-harness-wrong-type"),
    ("object", {"x_harness": "wrong type"}),
    ("array", ["x-harness-wrong-type"]),
    ("boolean", True),
    ("number", 1.5),
)


def _wrong_type(sub: Any, resolver: Resolver | None = None) -> Any:
    """A value whose JSON type the node does not admit (an integer for a string, a string for a number...)."""
    admitted = _admitted(sub, resolver)
    for kind, value in _WRONG_VALUES:
        if kind not in admitted:
            return copy.deepcopy(value)
    return None


def _outside(node: Mapping[str, Any]) -> Any:
    """A value of the enum's own type that the enum (or const) does not list."""
    values = [node["const"]] if "const" in node else list(node["enum"])
    if values and all(type(v) is int for v in values):
        return max(values) + 1
    candidate = "x-harness-unlisted"
    while candidate in values:
        candidate += "-x"
    return candidate


def _mutate(prov: Provider, event: str, payload: Any, mode: str, start: int) -> InvalidPayload | None:
    """Apply one kind of mutation at the first candidate (from ``start``, cyclically) that breaks the schema."""
    schema = prov.event(event).schema
    resolver = prov.registry.resolver(base_uri=schema.get("$id", ""))
    candidates: list[tuple[Any, str]] = []
    if mode == "outside-enum":
        typing = prov.event_type.pointer if prov.event_type.where == "body" else prov.event_type.action
        skip = tuple(parse_pointer(typing)) if typing else None
        for path, node in _enum_paths(schema, resolver, payload):
            if path != skip:  # a new event type name is a novelty to accept, not an invalid body
                value = _outside(node)
                where = "/" + "/".join(path)
                candidates.append((_set(payload, path, value), f"{where}: value outside its enum ({value!r})"))
    else:
        for path, sub, sub_resolver in _required_paths(schema, resolver):
            if not _has(payload, path):
                continue
            where = "/" + "/".join(path)
            if mode == "missing":
                candidates.append((_set(payload, path, None, delete=True), f"required field {where} missing"))
            else:
                value = _wrong_type(sub, sub_resolver)
                shown = json.dumps(value)[:40]
                candidates.append((_set(payload, path, value), f"{where}: wrong type ({shown})"))
    for offset in range(min(len(candidates), _TRIES)):
        bad, reason = candidates[(start + offset) % len(candidates)]
        if prov.schema_errors(event, bad):
            return InvalidPayload(event, bad, reason)
    return None


def invalid_payloads(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None
) -> st.SearchStrategy[InvalidPayload]:
    """A payload that fails its event schema: a required field missing, a wrong type, a value outside its enum.

    Each is checked against the schema before it is returned; it shrinks like the valid payload it came from.
    """
    prov = provider_of(provider, catalog)

    @st.composite
    def build(draw: st.DrawFn) -> InvalidPayload:
        name, payload = draw(typed_payloads(prov, event))
        mode = draw(st.sampled_from(["missing", "wrong-type", "outside-enum"]))
        start = draw(st.integers(0, 63))
        for kind in (mode, "wrong-type", "missing"):
            found = _mutate(prov, name, payload, kind, start)
            if found is not None:
                return found
        wrong = [payload] if not isinstance(payload, list) else {"x_harness": payload}
        return InvalidPayload(name, wrong, "wrong type for the whole event")

    return build()


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _form_encoded(payload: Any) -> bytes:
    fields = payload if isinstance(payload, dict) else {"payload": payload}
    return "&".join(f"{key}=x" for key in fields).encode() or b"payload=x"


def _oversized(prov: Provider) -> bytes:
    """Valid JSON just over the provider's size cap, built as bytes (no serialisation of a huge value)."""
    return _oversized_body(prov.body.max_bytes, prov.body.shape == "batch", prov.body.suffix)


@lru_cache(maxsize=2)
def _oversized_body(max_bytes: int, batch: bool, suffix: str) -> bytes:
    """One body per cap, shared (bytes are immutable): a 25 MB cap's body took 20 ms to build on every draw."""
    body = b'{"x_harness_padding":"' + b"x" * (max_bytes + 1) + b'"}'
    return (b"[" + body + b"]" if batch else body) + suffix.encode()


def malformed_bodies(provider: str | Provider, *, catalog: Catalog | None = None) -> st.SearchStrategy[MalformedBody]:
    """Bodies a receiver must refuse with a 4xx: not JSON, empty, the wrong content type, over the size cap."""
    prov = provider_of(provider, catalog)
    ct = prov.content_type
    encoded = typed_payloads(prov).map(lambda pair: prov.encode([pair[1]] if prov.body.shape == "batch" else pair[1]))
    truncated = st.tuples(encoded, st.integers(1, 2**16)).map(lambda t: t[0][: max(1, len(t[0].rstrip()) - t[1])])
    broken = st.one_of(
        st.sampled_from([b"{", b'{"event": "processed"', b"[1, 2,", b"\x00\xff\xfe", b"null,", b"<xml/>"]),
        truncated.filter(_not_json),
        st.binary(min_size=1, max_size=64).filter(_not_json),
    ).map(lambda body: MalformedBody(body, ct, "malformed JSON"))
    empty = st.just(MalformedBody(b"", ct, "empty body"))
    form = "application/x-www-form-urlencoded"
    wrong_type = typed_payloads(prov).map(
        lambda pair: MalformedBody(_form_encoded(pair[1]), form, f"wrong content type ({form})")
    )
    oversized = st.builds(lambda: MalformedBody(_oversized(prov), ct, f"body over the {prov.body.max_bytes}-byte cap"))
    return st.one_of(broken, empty, wrong_type, oversized)


_EXTRA_NAMES = st.from_regex(r"x_harness_[a-z]{3,10}", fullmatch=True)
_EXTRA_VALUES = st.one_of(
    st.integers(-(2**31), 2**31), st.text(max_size=20), st.booleans(), st.none(), st.just({"nested": [1, "two"]})
)


def _with_extras(prov: Provider, name: str, payload: Any, draw: st.DrawFn) -> Any:
    """The payload with an unknown field at the top level and one in a nested object, where the schema allows."""
    if not isinstance(payload, dict):
        return payload
    body = copy.deepcopy(payload)
    body[draw(_EXTRA_NAMES)] = draw(_EXTRA_VALUES)
    nested = sorted(k for k, v in body.items() if isinstance(v, dict))
    if nested:
        key = draw(st.sampled_from(nested))
        candidate = {**body, key: {**body[key], draw(_EXTRA_NAMES): draw(_EXTRA_VALUES)}}
        if not prov.schema_errors(name, candidate):
            body = candidate
    return body if not prov.schema_errors(name, body) else payload


def novel_deliveries(
    provider: str | Provider, *, catalog: Catalog | None = None, now: float | None = None
) -> st.SearchStrategy[Delivery]:
    """Still-valid deliveries with what providers add without notice: unknown fields, an unknown event type.

    ``label`` says which: ``unknown-fields`` (top-level and nested) or ``unknown-event-type`` (``NOVEL_EVENT``).
    """
    prov = provider_of(provider, catalog)

    @st.composite
    def build(draw: st.DrawFn) -> Delivery:
        name, payload = draw(typed_payloads(prov, None, now))
        seed = draw(st.integers(0, 2**32 - 1))
        mode = draw(st.sampled_from(["unknown-fields", "unknown-event-type"]))
        body = _with_extras(prov, name, payload, draw)
        headers = None
        event_name = name
        if mode == "unknown-event-type":
            event_name = NOVEL_EVENT
            if prov.event_type.where == "body" and isinstance(body, dict):
                body = copy.deepcopy(body)
                set_pointer(body, prov.event_type.pointer, prov.event_type_value(NOVEL_EVENT))
            elif prov.event_type.where == "header":
                headers = {prov.event_type.name: NOVEL_EVENT}
        items = [body] if prov.body.shape == "batch" else body
        return build_delivery(
            prov, items, event_types=[event_name], rng=random.Random(seed), now=now, headers=headers, label=mode
        )

    return build()
