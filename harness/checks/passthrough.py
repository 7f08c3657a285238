"""Pass-through content: free text providers copy from end users reaches the receiver as people typed it."""

from __future__ import annotations

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.generation import passthrough
from harness.violations import ContractViolation

__all__ = ["pass_through_deliveries"]

_TRIES = 12  # payloads drawn per event type looking for one where a field applies


def _applies(ctx: CheckContext) -> str | None:
    if not ctx.provider.pass_through:
        return f"{ctx.provider.id}'s profile names no pass-through (user-typed) fields"
    return None if pass_through_deliveries(ctx) else "no subscribed event type has a pass-through field"


def pass_through_deliveries(ctx: CheckContext) -> list[tuple[Delivery, str, str]]:
    """One valid delivery per kind of unusual value (kind, field pointer), each in a field where it stays valid."""
    cached = getattr(ctx, "_pass_through", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    prov = ctx.provider
    fields = passthrough.fields_of(prov.pass_through)
    out: list[tuple[Delivery, str, str]] = []
    kinds = dict.fromkeys(k for f in fields for k in f.kinds())
    for kind in kinds:
        found = _one(ctx, fields, kind)
        if found is not None:
            out.append(found)
    ctx._pass_through = out  # type: ignore[attr-defined]
    return out


def _one(
    ctx: CheckContext, fields: tuple[passthrough.PassThroughField, ...], kind: str
) -> tuple[Delivery, str, str] | None:
    prov = ctx.provider
    for event in sorted(prov.ordinary_events):
        for _ in range(_TRIES):
            payload = ctx.generator.payload(event)
            for field in fields:
                if kind not in field.kinds() or not field.applies(payload):
                    continue
                candidate = passthrough.with_value(payload, field, kind)
                if not prov.is_valid(event, candidate):
                    continue
                body = [candidate] if prov.body.shape == "batch" else candidate
                label = f"{kind} in {field.pointer}"
                delivery = build_delivery(prov, body, event_types=[event], rng=ctx.rng, label=label)
                return delivery, kind, field.pointer
    return None


@check(
    "accepts-pass-through",
    "Text people typed (NUL, emoji, right-to-left marks, 10 KB, integers beyond 2^53) gets a 2xx",
    12,
    _applies,
    category="acceptance",
    bugs=("refuses-nul-text", "reserialised-signature"),
    sends=PROVIDER_SENDS,
    gated=True,
)
def accepts_pass_through_content(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Send one valid delivery per kind of unusual value, each in a field the provider copies from end users."""
    out = []
    sent = []
    for delivery, kind, pointer in pass_through_deliveries(ctx):
        signed = ctx.sign(delivery)
        reply = ctx.send(signed, delivery.label)
        sent.append(f"{kind} in {pointer}")
        if reply.ok:
            continue
        hint = (
            f"{pointer} is free text the provider copies from end users: store it as it comes (PostgreSQL text "
            "refuses \\u0000: strip or escape it, or keep the raw JSON as jsonb/bytea); one refused event makes the "
            "provider retry, then drop, the whole delivery"
        )
        found = ctx.violation(
            "accepts-pass-through",
            f"A valid {delivery.event_types[0]!r} delivery with {kind} in {pointer} was refused",
            "a 2xx: the provider forwards what people typed, unchanged",
            signed,
            reply,
            hint,
        )
        if 400 <= reply.status < 500:
            plain = ctx.send(ctx.signed(delivery.event_types[0]), f"valid {delivery.event_types[0]} (plain text)")
            if plain.status == reply.status:  # the event type itself is refused (unsubscribed?): accepts-valid says so
                found.advisory = True
                found.hint = (
                    f"a plain {delivery.event_types[0]!r} delivery got HTTP {plain.status} too: see accepts-valid"
                )
        out.append(found)
    return out, [f"sent: {', '.join(sent)}"] if sent else []
