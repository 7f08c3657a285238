"""Byte-exact bodies: the signature covers the bytes as sent, which a re-serialised body does not reproduce."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.checks.auth import requires_signed_body
from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.violations import ContractViolation

__all__ = ["NON_ASCII_TEXT", "non_ascii_delivery", "survives_round_trip"]

# Accents, a dash, typographic quotes, CJK, an emoji and U+2028: what real names and messages carry. Encoded as raw
# UTF-8, none of it survives json.dumps(json.loads(body)), which escapes every non-ASCII character by default.
NON_ASCII_TEXT = "Zoë Ångström – “Grüße” 東京 ✓ 🎉\u2028end"
_ASCII_TWIN = "Zoe Angstrom - plain ASCII"
_PREFERRED = ("name", "subject", "message", "text", "title", "description", "summary", "body", "reason", "comment")


def survives_round_trip(body: bytes) -> bool:
    """``json.dumps(json.loads(body))`` gives the same bytes, with compact or default separators."""
    try:
        value = json.loads(body)
    except ValueError:
        return False
    stripped = body.rstrip(b"\r\n")
    return any(json.dumps(value, separators=sep).encode() == stripped for sep in ((",", ":"), (", ", ": ")))


def _string_paths(value: Any, path: tuple[Any, ...] = (), depth: int = 0) -> Iterator[tuple[Any, ...]]:
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _string_paths(child, (*path, key), depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from _string_paths(child, (*path, index), depth + 1)
    elif isinstance(value, str):
        yield path


def _with(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


def _with_text(ctx: CheckContext, event: str, text: str) -> Any | None:
    """A fresh payload of ``event`` with ``text`` in one string field (replacing it, or appended), schema-valid."""
    prov = ctx.provider
    payload = ctx.generator.payload(event)
    protected = {prov.event_type.pointer, prov.idempotency_key.pointer}
    paths = [p for p in _string_paths(payload) if "/" + "/".join(map(str, p)) not in protected]
    paths.sort(key=lambda p: (str(p[-1]).lower() not in _PREFERRED, len(p)))
    for path in paths[:60]:
        current = payload
        for step in path:
            current = current[step]
        for value in (text, f"{current} {text}"):
            candidate = _with(payload, path, value)
            if prov.is_valid(event, candidate):
                return candidate
    return None


def non_ascii_delivery(ctx: CheckContext, event: str | None = None) -> tuple[Delivery, Delivery] | None:
    """A schema-valid delivery with non-ASCII text in a string field, and an ASCII twin (its own idempotency key)."""
    prov = ctx.provider
    events = [event] if event else [ctx.baseline_event, *(e for e in prov.ordinary_events if e != ctx.baseline_event)]
    for name in events[:6]:
        hostile = _with_text(ctx, name, NON_ASCII_TEXT)
        twin = _with_text(ctx, name, _ASCII_TWIN) if hostile is not None else None
        if hostile is None or twin is None:
            continue
        batch = prov.body.shape == "batch"
        built = [
            build_delivery(prov, [value] if batch else value, event_types=[name], rng=ctx.rng, label=label)
            for value, label in ((twin, "ASCII twin"), (hostile, "non-ASCII text"))
        ]
        return built[0], built[1]
    return None


@check(
    "verifies-raw-body",
    "The signature is verified over the raw bytes: non-ASCII text in the provider's UTF-8 gets a 2xx",
    15,
    requires_signed_body,
    category="auth",
    bugs=("reserialised-signature",),
    sends=PROVIDER_SENDS,
    gated=True,
)
def verifies_raw_body(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Send an ASCII delivery and its twin with non-ASCII text; only a re-serialising verifier tells them apart."""
    pair = non_ascii_delivery(ctx)
    if pair is None:
        return [], [f"no free-text field in {ctx.baseline_event!r} takes non-ASCII text"]
    twin, hostile = (ctx.sign(d) for d in pair)
    twin_reply = ctx.send(twin, "ASCII twin")
    hostile_reply = ctx.send(hostile, "non-ASCII text")
    if hostile_reply.ok:
        return [], []
    if twin_reply.ok:
        hint = (
            "verify the signature over the raw request bytes, not a re-serialised body: "
            "json.dumps(json.loads(body)) escapes non-ASCII text and changes the whitespace"
        )
        title = "A delivery with non-ASCII text was refused while its ASCII twin was accepted"
    else:
        hint = "even the ASCII twin was refused: see accepts-valid"
        title = "A delivery with non-ASCII text was refused (and so was its ASCII twin)"
    found = ctx.violation(
        "verifies-raw-body",
        title,
        "a 2xx: providers send raw UTF-8 and sign the exact bytes they send",
        hostile,
        hostile_reply,
        hint,
    )
    # Both refused alike with a 4xx: the event type itself is refused (unsubscribed?), which accepts-valid reports.
    found.advisory = twin_reply.status == hostile_reply.status and 400 <= twin_reply.status < 500
    return [found], []
