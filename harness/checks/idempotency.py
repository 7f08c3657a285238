"""Redelivery: a retry is acknowledged, and (with a probe) every idempotency key is stored exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.core.models import Delivery, Reply
from harness.violations import ContractViolation

CONCURRENT_COPIES = 6
SEQUENTIAL_COPIES = 3


def retry_of(ctx: CheckContext, delivery: Delivery, attempt: int) -> Delivery:
    """The delivery as the provider's retry ``attempt`` sends it: same key, fresh timestamp and signature."""
    headers = ctx.provider.retry.resend_headers(attempt)
    again = delivery.with_headers(headers) if headers else delivery
    return ctx.sign(again, now=time.time() + attempt).replace(label=f"retry {attempt}")


def _refused(replies: list[Reply]) -> str:
    """How every copy was refused: "all 3 copies were refused with HTTP 400"."""
    answers = sorted({f"HTTP {r.status}" if r.status else r.describe() for r in replies})
    return f"all {len(replies)} copies were refused with {' or '.join(answers)}"


@check(
    "redelivery-accepted",
    "A retry of the same delivery gets a 2xx",
    90,
    category="idempotency",
    bugs=("rejects-duplicates", "duplicate-500"),
    sends=PROVIDER_SENDS,
    gated=True,
)
def redelivery_accepted(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Send, then send again the way a retry does."""
    notes = []
    original = ctx.unsigned()
    first = ctx.send(ctx.sign(original), "first attempt")
    if not first.ok:
        notes.append(f"the first attempt itself got {first.describe()}")
    retry = retry_of(ctx, original, 1)
    reply = ctx.send(retry)
    if reply.ok:
        return [], notes
    return [
        ctx.violation(
            "redelivery-accepted",
            "A redelivery of an already received delivery was refused",
            "a 2xx: the provider cannot know the first attempt arrived, so it retries; answer 2xx and do nothing",
            retry,
            reply,
            f"deduplicate on {ctx.provider.idempotency_key.describe()} and acknowledge duplicates",
        )
    ], notes


@check(
    "single-effect",
    "Sequential and concurrent duplicates are stored exactly once",
    100,
    lambda ctx: None if ctx.probe else "no probe given (--probe-url or --probe-db with --probe-sql)",
    category="idempotency",
    bugs=("stores-duplicates", "racy-dedupe", "first-event-only"),
    sends=PROVIDER_SENDS,
    gated=True,
)
def single_effect(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Duplicates one after another, then at the same moment; the probe counts each key."""
    assert ctx.probe is not None
    out: list[ContractViolation] = []
    batch = ctx.provider.body.shape == "batch"
    sequential = ctx.unsigned(batch=2 if batch else None)  # a batch carries several events: body[0] is not enough
    sent_sequential = [
        retry_of(ctx, sequential, attempt) if attempt else ctx.sign(sequential) for attempt in range(SEQUENTIAL_COPIES)
    ]
    replies: dict[str, list[Reply]] = {"sequential": [], "concurrent": []}
    for attempt, delivery in enumerate(sent_sequential):
        replies["sequential"].append(ctx.send(delivery, f"sequential copy {attempt}"))
    concurrent = ctx.unsigned(batch=3 if batch else None)
    copies = [retry_of(ctx, concurrent, attempt) for attempt in range(CONCURRENT_COPIES)]
    barrier = threading.Barrier(CONCURRENT_COPIES, timeout=30)
    lock = threading.Lock()

    def fire(delivery: Delivery) -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        reply = ctx.send(delivery, "concurrent copy")
        with lock:
            replies["concurrent"].append(reply)

    with ThreadPoolExecutor(max_workers=CONCURRENT_COPIES) as pool:
        list(pool.map(fire, copies))
    counted = ctx.settled_counts([*sent_sequential[-1].idempotency_keys, *copies[-1].idempotency_keys])
    for how, delivery, sent in (
        ("sequential", sent_sequential[-1], SEQUENTIAL_COPIES),
        ("concurrent", copies[-1], CONCURRENT_COPIES),
    ):
        counts = {key: counted[key] for key in delivery.idempotency_keys}
        wrong = {key: n for key, n in counts.items() if n != 1}
        if not wrong:
            continue
        listed = ", ".join(f"{key} stored {'never' if n == 0 else f'{n}x'}" for key, n in wrong.items())
        if max(wrong.values()) > 1:
            hint = "insert with a unique constraint on the key (INSERT ... ON CONFLICT DO NOTHING)"
        elif len(counts) > 1 and len(wrong) < len(counts):
            hint = (
                f"only some events of the {len(counts)}-event batch were stored: handle every element of the "
                "array, not just body[0]"
            )
        elif not any(r.ok for r in replies[how]):
            hint = f"nothing was stored because {_refused(replies[how])}: see accepts-valid and redelivery-accepted"
        else:
            hint = "the delivery was acknowledged but nothing was stored (within the settle timeout)"
        violation = ctx.violation(
            "single-effect",
            f"After {sent} {how} copies of one delivery: {listed}",
            "exactly 1 stored effect per idempotency key",
            delivery,
            None,
            hint,
        )
        violation.received = f"the probe ({ctx.probe.describe()}) counted " + ", ".join(str(n) for n in wrong.values())
        out.append(violation)
    return out, []
