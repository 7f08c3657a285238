"""Reading a delivery body: content type, strict JSON, the events it carries, their types and keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from referencing._core import Resolver
from referencing.exceptions import Unresolvable

from harness.catalog import Provider
from harness.core.pointers import MISSING, resolve_pointer

__all__ = [
    "Event",
    "Rejected",
    "event_items",
    "media_type_ok",
    "parse_body",
    "parse_json",
    "read_event",
    "unknown_field",
]

MAX_KEY_LENGTH = 255


class Rejected(Exception):
    """The request is refused with this status and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a delivery: its type (``None`` if absent or not text), key (``None`` if unusable) and value."""

    event_type: str | None
    key: str | None
    value: Any
    known: bool


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):  # a request's own headers: a case-insensitive lookup
        return headers.get(name)
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def media_type_ok(provider: Provider, content_type: str | None) -> bool:
    """The request's media type is the provider's (parameters such as charset are ignored)."""
    if not content_type:
        return False
    wanted = provider.content_type.split(";")[0].strip().lower()
    return content_type.split(";")[0].strip().lower() == wanted


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(parse_constant=_no_constants)  # made once: json.loads with a hook makes one per call
# every digit read as "0", every "[" or "{" as "[", any other byte as a space: one pass tells what orjson may not take
_SHAPE = bytes(48 if 48 <= byte <= 57 else 91 if byte in (91, 123) else 32 for byte in range(256))
_LONG_RUN = b"0" * 19  # 19 digits in a row: perhaps an integer past 64 bits, which orjson would make a float
_NESTING = 512  # fewer opening brackets than this: nested less deeply than either parser's limit


def parse_json(body: bytes) -> Any:
    """Strict JSON from UTF-8 bytes (no NaN/Infinity); ``Rejected(400)`` otherwise.

    orjson parses in about half the time of the standard library, and what it accepts the standard library accepts
    too, with the same value, with two exceptions screened for here: an integer past 64 bits (orjson makes it a
    float) and a nesting deeper than Python's recursion allows (orjson goes to 1024). A body that may hold either,
    and whatever orjson refuses (a lone surrogate escape, a number that overflows, bad input), goes through the
    standard library, which decides as before.
    """
    shape = body.translate(_SHAPE)
    if _LONG_RUN not in shape and shape.count(b"[") < _NESTING:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    if not body.strip():
        raise Rejected(400, "empty body")
    try:
        return _STRICT.decode(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Rejected(400, f"body is not JSON ({type(exc).__name__})") from None


def parse_body(provider: Provider, body: bytes) -> Any:
    """The body value as the provider encodes it: strict JSON, or a form's parameters; ``Rejected(400)`` otherwise."""
    if provider.body.format != "form" and provider.body.form_field is None:
        return parse_json(body)
    try:
        return provider.decode(body)
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, f"body is not a {provider.content_type} body ({type(exc).__name__})") from None


def event_items(provider: Provider, payload: Any) -> list[Any]:
    """The events of a delivery: the array items of a batch, or the single body value."""
    if provider.body.shape == "batch":
        if not isinstance(payload, list):
            raise Rejected(400, "a batch body must be a JSON array")
        if not payload:
            raise Rejected(400, "empty batch")
        return payload
    return [payload]


def _usable_key(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    key = str(value)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return None
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return key


def read_event(provider: Provider, headers: Mapping[str, str], item: Any) -> Event:
    """Type and idempotency key of one event, read from where the provider puts them."""
    loc = provider.event_type
    raw_type = _header(headers, loc.name) if loc.where == "header" else resolve_pointer(item, loc.pointer)
    event_type = None if raw_type is MISSING else provider.event_type_name(raw_type)
    if loc.where == "header":
        event_type = provider.qualified_event_type(event_type, item)
    key_loc = provider.idempotency_key
    raw_key = _header(headers, key_loc.name) if key_loc.where == "header" else resolve_pointer(item, key_loc.pointer)
    key = None if raw_key is MISSING else _usable_key(raw_key)
    return Event(event_type, key, item, event_type is not None and event_type in provider.events)


def _schema_resolver(provider: Provider, schema: Mapping[str, Any], fallback: str) -> Resolver[Any]:
    return provider.registry.resolver(base_uri=str(schema.get("$id") or fallback))


def unknown_field(provider: Provider, event_type: str) -> Any:
    """A function returning the path of the first field the event schema does not declare, or ``None``."""
    event = provider.event(event_type)
    resolver = _schema_resolver(provider, event.schema, event.schema_path.resolve().as_uri())

    def walk(schema: Any, value: Any, res: Resolver[Any], path: str, depth: int) -> str | None:
        if not isinstance(schema, Mapping) or depth > 32:
            return None
        if isinstance(schema.get("$ref"), str):
            try:
                resolved = res.lookup(schema["$ref"])
            except Unresolvable:
                return None
            found = walk(resolved.contents, value, resolved.resolver, path, depth + 1)
            if found:
                return found
        if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
            props = schema["properties"]
            # beside a $ref, properties only narrow what the reference declares (Stripe's invoice.paid pins status)
            open_schema = isinstance(schema.get("additionalProperties"), Mapping) or "$ref" in schema
            for name, child in value.items():
                if name not in props:
                    if not open_schema:
                        return f"{path}/{name}"
                    continue
                found = walk(props[name], child, res, f"{path}/{name}", depth + 1)
                if found:
                    return found
        if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            for index, child in enumerate(value):
                found = walk(schema["items"], child, res, f"{path}/{index}", depth + 1)
                if found:
                    return found
        return None

    return lambda value: walk(event.schema, value, resolver, "", 0)
