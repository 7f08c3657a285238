"""The receiver answers within the provider's timeout: every request the provider sends, wherever in the run."""

from __future__ import annotations

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext, Exchange
from harness.checks._registry import check
from harness.violations import ContractViolation

SAMPLES = 3


def _late(exchange: Exchange, limit: float) -> bool:
    """Answered after ``limit`` seconds, or not at all because the wait ran out."""
    reply = exchange.reply
    error = reply.error or ""
    return reply.elapsed > limit or (reply.status == 0 and "timed out" in error and "not sent" not in error)


@check(
    "responds-in-time",
    "Every request the provider sends, anywhere in the run, is answered within its receiver timeout",
    200,
    category="timing",
    bugs=("slow", "slow-one-in-ten"),
    sends=PROVIDER_SENDS,
)
def responds_in_time(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """A few valid deliveries of its own, then every provider-sends request of the run is timed against the limit."""
    for _ in range(SAMPLES):
        ctx.send(ctx.signed(), "timed")
    judged = ctx.sent(PROVIDER_SENDS)
    slowest = max(judged, key=lambda e: e.reply.elapsed)
    late = [e for e in judged if _late(e, ctx.timeout)]
    summary = f"slowest {slowest.reply.elapsed * 1000:.0f} ms ({slowest.label}) of {len(judged)} provider-sends"
    tried = [e for e in judged if "not sent" not in (e.reply.error or "")]  # the run budget may stop sends
    if not late and tried and not any(e.reply.ok for e in tried):  # resets or 5xx: nothing was acknowledged
        last = tried[-1]
        why = last.reply.error or f"HTTP {last.reply.status}"
        return [
            ctx.violation(
                "responds-in-time",
                f"None of {len(tried)} requests the provider sends was acknowledged within {ctx.timeout:g} s ({why})",
                f"a 2xx within {ctx.timeout:g} s; without one the provider counts each delivery as failed and retries",
                last.delivery,
                last.reply,
                "answer 2xx quickly, then do the slow work in the background",
            )
        ], [summary]
    if not late:
        return [], [f"{summary} (limit {ctx.timeout:g} s)"]
    worst = max(late, key=lambda e: e.reply.elapsed)
    return [
        ctx.violation(
            "responds-in-time",
            f"{len(late)} of {len(judged)} requests the provider sends took longer than {ctx.provider.id}'s "
            f"{ctx.timeout:g} s timeout (slowest {worst.reply.elapsed:.2f} s: {worst.label})",
            f"an answer within {ctx.timeout:g} s; the provider then counts the delivery as failed and retries",
            worst.delivery,
            worst.reply,
            "acknowledge first (2xx), then do the slow work in the background",
        )
    ], [summary]
