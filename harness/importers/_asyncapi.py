"""AsyncAPI 2.x channels and messages as webhooks (each message one event type, Slack's Events API as the model)."""

from __future__ import annotations

from typing import Any

from harness.errors import SchemaLoadError
from harness.importers._catalog import Header, Webhook
from harness.importers._document import Documents
from harness.importers._openapi import _deref
from harness.importers._schema import SchemaConverter

__all__ = ["read_asyncapi"]


def read_asyncapi(
    docs: Documents, location: str, converter: SchemaConverter
) -> tuple[list[Webhook], dict[str, Any], list[tuple[str, str]]]:
    """The document's messages (every operation of every channel, once each) and its ``info`` object."""
    doc = docs.load(location)
    if not isinstance(doc, dict) or not isinstance(doc.get("asyncapi"), str):
        raise SchemaLoadError(f"{location}: not an AsyncAPI document (no 'asyncapi' version field at the top).")
    if not doc["asyncapi"].startswith("2."):
        raise SchemaLoadError(f"{location}: AsyncAPI {doc['asyncapi']} is not supported (2.x only).")
    channels = doc.get("channels")
    if not isinstance(channels, dict) or not channels:
        raise SchemaLoadError(f"{location}: AsyncAPI document has no channels, so no messages to import.")
    default_type = str(doc.get("defaultContentType") or "application/json")
    out: list[Webhook] = []
    seen: set[str] = set()
    for channel, item in channels.items():
        for operation in ("subscribe", "publish"):
            op = item.get(operation) if isinstance(item, dict) else None
            if not isinstance(op, dict) or "message" not in op:
                continue
            where = f"{location}#/channels/{channel}/{operation}/message"
            message, base = _deref(docs, op["message"], location, where)
            parts: list[Any] = [op["message"]]
            if isinstance(message, dict) and isinstance(message.get("oneOf"), list):
                parts = message["oneOf"]
            for i, part in enumerate(parts):
                here = f"{where}/oneOf/{i}" if len(parts) > 1 else where
                ref = part.get("$ref") if isinstance(part, dict) else None
                msg, mbase = _deref(docs, part, base, here)
                if not isinstance(msg, dict):
                    raise SchemaLoadError(f"{here}: a message must be an object.")
                key = str(msg.get("name") or (ref.rsplit("/", 1)[-1] if isinstance(ref, str) else f"{channel}-{i}"))
                if key in seen:
                    continue
                seen.add(key)
                out.append(_webhook(docs, converter, msg, mbase, here, key, default_type))
    if not out:
        raise SchemaLoadError(f"{location}: AsyncAPI document has no messages under its channels' operations.")
    return out, doc.get("info") or {}, []


def _webhook(
    docs: Documents, converter: SchemaConverter, msg: dict[str, Any], base: str, where: str, key: str, default: str
) -> Webhook:
    if "payload" not in msg:
        raise SchemaLoadError(f"{where}: message {key!r} has no payload schema.")
    content_type = str(msg.get("contentType") or default)
    if "json" not in content_type:
        raise SchemaLoadError(f"{where}/contentType: only JSON messages are imported (found {content_type}).")
    headers = []
    header_schema, hbase = _deref(docs, msg.get("headers") or {}, base, f"{where}/headers")
    for name, prop in (header_schema.get("properties") or {}).items():
        prop, _ = _deref(docs, prop, hbase, f"{where}/headers/properties/{name}")
        example = prop.get("example", (prop.get("examples") or [None])[0]) if isinstance(prop, dict) else None
        headers.append(
            Header(str(name), prop if isinstance(prop, dict) else {}, None if example is None else str(example))
        )
    examples = [e["payload"] for e in msg.get("examples") or [] if isinstance(e, dict) and "payload" in e]
    payload, _ = _deref(docs, msg["payload"], base, f"{where}/payload")
    if not examples and isinstance(payload, dict):
        if "example" in payload:
            examples.append(payload["example"])
        elif isinstance(payload.get("examples"), list):
            examples.extend(payload["examples"])
    schema = converter.event_schema(msg["payload"], base, f"{where}/payload")
    return Webhook(
        key=key,
        method="POST",
        content_type=content_type,
        headers=headers,
        body=schema,
        examples=examples,
        description=str(msg.get("summary") or msg.get("title") or msg.get("description") or ""),
        where=where,
    )
