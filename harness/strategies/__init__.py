"""Hypothesis strategies for provider payloads and deliveries, valid and invalid, for use with ``@given``.

from hypothesis import given
from harness.strategies import deliveries

@given(deliveries("github", "push"))
def test_handler(delivery): ...
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.strategies._compile import compile_schema

__all__ = [
    "NOVEL_EVENT",
    "InvalidPayload",
    "MalformedBody",
    "compile_schema",
    "deliveries",
    "event_types",
    "invalid_payloads",
    "malformed_bodies",
    "novel_deliveries",
    "payloads",
]

NOVEL_EVENT = "x-harness.novel_event"


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


def _provider(provider: str | Provider, catalog: Catalog | None) -> Provider:
    if isinstance(provider, Provider):
        return provider
    return (catalog or load_catalog()).get(provider)


_STRATEGIES: dict[tuple[int, str], tuple[Provider, st.SearchStrategy[Any]]] = {}


def _event_strategy(provider: Provider, event: str) -> st.SearchStrategy[Any]:
    cached = _STRATEGIES.get((id(provider), event))
    if cached is not None and cached[0] is provider:
        return cached[1]
    schema = provider.event(event).schema
    resolver = provider.registry.resolver(base_uri=schema.get("$id", ""))
    strategy = compile_schema(schema, resolver)
    _STRATEGIES[(id(provider), event)] = (provider, strategy)
    return strategy


def event_types(provider: str | Provider, *, catalog: Catalog | None = None) -> st.SearchStrategy[str]:
    """One of the provider's ordinary (non-handshake) event types."""
    return st.sampled_from(_provider(provider, catalog).ordinary_events)


def payloads(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None
) -> st.SearchStrategy[Any]:
    """One valid event object (of ``event``, or of any ordinary event type)."""
    prov = _provider(provider, catalog)
    if event is not None:
        return _event_strategy(prov, event)
    return st.one_of([_event_strategy(prov, name) for name in prov.ordinary_events])


def _typed_payloads(prov: Provider, event: str | None) -> st.SearchStrategy[tuple[str, Any]]:
    names = [event] if event is not None else prov.ordinary_events
    return st.one_of([st.tuples(st.just(name), _event_strategy(prov, name)) for name in names])


def deliveries(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None, now: float | None = None
) -> st.SearchStrategy[Delivery]:
    """An unsigned, valid delivery as the provider would send it (a batch of events for SendGrid)."""
    prov = _provider(provider, catalog)
    typed = _typed_payloads(prov, event)
    seeds = st.integers(0, 2**32 - 1)
    if prov.body.shape == "batch":
        batch = st.lists(typed, min_size=1, max_size=5)
        return st.tuples(batch, seeds).map(
            lambda b: build_delivery(
                prov, [p for _, p in b[0]], event_types=[n for n, _ in b[0]], rng=random.Random(b[1]), now=now
            )
        )
    return st.tuples(typed, seeds).map(
        lambda t: build_delivery(prov, t[0][1], event_types=[t[0][0]], rng=random.Random(t[1]), now=now)
    )


def _required_paths(schema: Any, resolver: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, Any]]:
    """(path, subschema) for every required property reachable through required objects."""
    if isinstance(schema, dict) and "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        return _required_paths(resolved.contents, resolved.resolver, prefix)
    if not isinstance(schema, dict):
        return []
    out = []
    props = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name in props:
            out.append(((*prefix, name), props[name], resolver))
            if len(prefix) < 3:
                out.extend(_required_paths(props[name], resolver, (*prefix, name)))
    return out


def _set(value: Any, path: tuple[str, ...], new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    if not isinstance(value, dict) or path[0] not in value:
        return value
    copy = dict(value)
    if len(path) == 1 and delete:
        del copy[path[0]]
    else:
        copy[path[0]] = _set(copy[path[0]], path[1:], new, delete)
    return copy


def _wrong_type(sub: Any) -> Any:
    kind = sub.get("type") if isinstance(sub, dict) else None
    if "const" in sub or "enum" in sub:
        values = sub.get("enum", [sub.get("const")])
        return 12345 if all(isinstance(v, str) for v in values) else "not-an-allowed-value"
    kinds = kind if isinstance(kind, list) else [kind]
    if "string" in kinds or kind is None:
        return {"unexpected": "object"} if "object" not in kinds else 12345
    return "a string where the schema wants " + "/".join(str(k) for k in kinds)


def invalid_payloads(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None
) -> st.SearchStrategy[InvalidPayload]:
    """A payload that fails its event schema: a required field missing, a wrong type, a value outside its enum."""
    prov = _provider(provider, catalog)

    @st.composite
    def build(draw: st.DrawFn) -> InvalidPayload:
        name, payload = draw(_typed_payloads(prov, event))
        schema = prov.event(name).schema
        resolver = prov.registry.resolver(base_uri=schema.get("$id", ""))
        paths = [(p, s, r) for p, s, r in _required_paths(schema, resolver) if _has(payload, p)]
        path, sub, sub_resolver = draw(st.sampled_from(paths))
        if isinstance(sub, dict) and "$ref" in sub:
            sub = sub_resolver.lookup(sub["$ref"]).contents
        mode = draw(st.sampled_from(["missing", "wrong-type"]))
        where = "/" + "/".join(path)
        if mode == "missing":
            bad, reason = _set(payload, path, None, delete=True), f"required field {where} missing"
        else:
            value = _wrong_type(sub)
            kind = (
                "value outside its enum"
                if isinstance(sub, dict) and ("enum" in sub or "const" in sub)
                else "wrong type"
            )
            bad, reason = _set(payload, path, value), f"{where}: {kind} ({json.dumps(value)[:40]})"
        errors = prov.schema_errors(name, bad)
        if not errors:  # e.g. a type list that admits our replacement; try another draw
            from hypothesis import reject

            reject()
        return InvalidPayload(name, bad, reason)

    return build()


def _has(value: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def malformed_bodies(provider: str | Provider, *, catalog: Catalog | None = None) -> st.SearchStrategy[MalformedBody]:
    """Bodies a receiver must refuse with a 4xx: not JSON, empty, the wrong content type, over the size cap."""
    prov = _provider(provider, catalog)
    ct = prov.content_type
    broken_json = st.sampled_from(
        [b"{", b'{"event": "processed"', b"[1, 2,", b"\x00\xff\xfe", b"null,", b'{"a": NaN}x', b"<xml/>"]
    ).map(lambda b: MalformedBody(b, ct, "malformed JSON"))
    fuzz = st.binary(min_size=1, max_size=64).filter(_not_json).map(lambda b: MalformedBody(b, ct, "malformed JSON"))
    empty = st.just(MalformedBody(b"", ct, "empty body"))
    wrong_type = payloads(prov).map(
        lambda p: MalformedBody(
            "&".join(f"{k}=x" for k in (p if isinstance(p, dict) else {"payload": 1})).encode() or b"payload=x",
            "application/x-www-form-urlencoded",
            "wrong content type (form-encoded)",
        )
    )
    oversized = st.just(None).map(
        lambda _: MalformedBody(_oversized(prov), ct, f"body over the {prov.body.max_bytes}-byte cap")
    )
    return st.one_of(broken_json, fuzz, empty, wrong_type, oversized)


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _oversized(prov: Provider) -> bytes:
    filler = "x" * (prov.body.max_bytes + 1024)
    value: Any = {"padding": filler}
    return prov.encode([value] if prov.body.shape == "batch" else value)


def novel_deliveries(
    provider: str | Provider, *, catalog: Catalog | None = None, now: float | None = None
) -> st.SearchStrategy[Delivery]:
    """Still-valid deliveries with what providers add without notice: an unknown event type, unknown fields."""
    prov = _provider(provider, catalog)
    extra_names = st.from_regex(r"x_harness_[a-z]{3,10}", fullmatch=True)
    extra_values = st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none())

    @st.composite
    def build(draw: st.DrawFn) -> Delivery:
        name, payload = draw(_typed_payloads(prov, None))
        seed = draw(st.integers(0, 2**32 - 1))
        mode = draw(st.sampled_from(["unknown-fields", "unknown-event-type"]))
        body = dict(payload) if isinstance(payload, dict) else payload
        event_name = name
        if isinstance(body, dict):
            body[draw(extra_names)] = draw(extra_values)
            nested = [k for k, v in body.items() if isinstance(v, dict)]
            if nested:
                key = draw(st.sampled_from(sorted(nested)))
                body[key] = {**body[key], draw(extra_names): draw(extra_values)}
        if mode == "unknown-event-type":
            event_name = NOVEL_EVENT
            if prov.event_type.where == "body" and isinstance(body, dict):
                import copy

                from harness.core.pointers import set_pointer

                body = copy.deepcopy(body)
                set_pointer(body, prov.event_type.pointer, NOVEL_EVENT)
        items = [body] if prov.body.shape == "batch" else body
        headers = (
            {prov.event_type.name: NOVEL_EVENT}
            if mode == "unknown-event-type" and prov.event_type.where == "header"
            else None
        )
        return build_delivery(
            prov, items, event_types=[event_name], rng=random.Random(seed), now=now, headers=headers, label=mode
        )

    return build()
