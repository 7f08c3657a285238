"""Between records and deliveries: what a recorded request carries, and a generated delivery as a record."""

from __future__ import annotations

import json
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.deliveries import event_type_of, idempotency_keys_of
from harness.recording._format import Record

__all__ = ["FRAMING_HEADERS", "event_types_of", "parse_body", "record_of", "to_delivery"]

FRAMING_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "expect"}
)


def parse_body(body: bytes, provider: Provider | None = None) -> Any:
    """The body's value (JSON, or as ``provider`` encodes it: a form's parameters), or ``None`` when it is not."""
    try:
        return json.loads(body) if provider is None else provider.decode(body)
    except (ValueError, RecursionError):
        return None


def event_types_of(provider: Provider, headers: dict[str, str] | Any, payload: Any) -> tuple[str, ...]:
    """The event type of each event in the body (one per batch item), as a receiver reads them."""
    if provider.body.shape == "batch" and isinstance(payload, list):
        found = (event_type_of(provider, headers, [item]) for item in payload)
        return tuple(name or "" for name in found)
    name = event_type_of(provider, headers, payload)
    return (name,) if name else ()


def to_delivery(provider: Provider, record: Record) -> Delivery:
    """The recorded request as an unsigned delivery: same bytes, same headers less the framing ones."""
    headers = {k: v for k, v in record.headers.items() if k.lower() not in FRAMING_HEADERS}
    payload = parse_body(record.body, provider)
    return Delivery(
        provider=provider.id,
        method=record.method,
        headers=headers,
        body=record.body,
        event_types=event_types_of(provider, headers, payload),
        idempotency_keys=idempotency_keys_of(provider, headers, payload),
        payload=payload,
        label=record.source or "recorded",
    )


def record_of(delivery: Delivery, *, path: str, received_at: str, verified: bool | None = None) -> Record:
    """A delivery in the record shape (what ``generate --format record`` prints)."""
    return Record(
        method=delivery.method,
        path=path,
        headers=dict(delivery.headers),
        body=delivery.body,
        received_at=received_at,
        verified=verified,
        provider=delivery.provider,
    )
