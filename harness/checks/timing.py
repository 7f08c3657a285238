"""The receiver answers within the provider's timeout."""

from __future__ import annotations

from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.violations import ContractViolation

SAMPLES = 3


@check(
    "responds-in-time",
    "Every response arrives within the provider's receiver timeout",
    110,
    category="timing",
    bugs=("slow",),
)
def responds_in_time(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """A few valid deliveries, timed."""
    slowest = 0.0
    for _ in range(SAMPLES):
        delivery = ctx.signed()
        reply = ctx.send(delivery, "timed")
        slowest = max(slowest, reply.elapsed)
        if reply.elapsed > ctx.timeout or (reply.status == 0 and reply.error and "timed out" in reply.error):
            return [
                ctx.violation(
                    "responds-in-time",
                    f"A delivery took {reply.elapsed:.2f} s, over {ctx.provider.id}'s {ctx.timeout:g} s timeout",
                    f"an answer within {ctx.timeout:g} s; the provider then counts the delivery as failed and retries",
                    delivery,
                    reply,
                    "acknowledge first (2xx), then do the slow work in the background",
                )
            ], []
    return [], [f"slowest {slowest * 1000:.0f} ms of {SAMPLES} (limit {ctx.timeout:g} s)"]
