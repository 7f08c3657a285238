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
    """A few valid deliveries, timed; a pass needs at least one 2xx within the timeout (no answer is no pass)."""
    slowest = 0.0
    acknowledged = 0
    last = None
    for _ in range(SAMPLES):
        delivery = ctx.signed()
        reply = ctx.send(delivery, "timed")
        slowest = max(slowest, reply.elapsed)
        last = (delivery, reply)
        acknowledged += reply.ok
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
    if not acknowledged and last is not None:  # reset connections or 5xx: nothing was answered in time
        delivery, reply = last
        why = reply.error or f"HTTP {reply.status}"
        return [
            ctx.violation(
                "responds-in-time",
                f"None of {SAMPLES} valid deliveries was acknowledged within {ctx.timeout:g} s ({why})",
                f"a 2xx within {ctx.timeout:g} s; without one the provider counts each delivery as failed and retries",
                delivery,
                reply,
                "answer 2xx quickly, then do the slow work in the background",
            )
        ], []
    return [], [f"slowest {slowest * 1000:.0f} ms of {SAMPLES} (limit {ctx.timeout:g} s)"]
