"""converges: each lifecycle, delivered out of order, twice and concurrently, leaves the state an in-order run does."""

from __future__ import annotations

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.core.models import Delivery, Reply
from harness.violations import ContractViolation

CONVERGES_BUGS = ("last-arrival-wins", "resurrects-deleted", "dedupe-by-event-type", "lost-update")


class _Recorded:
    """The context's own sending: every schedule's delivery is counted, and the run budget applies."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Send through the check context."""
        return self.ctx.send(delivery, f"sequence {delivery.label}", timeout=timeout)


def _applies(ctx: CheckContext) -> str | None:
    if not ctx.provider.lifecycles:
        return f"{ctx.provider.id} declares no lifecycles"
    if ctx.state_probe is None:
        return "no state probe given (--state-url, or --state-db with --state-sql)"
    return None


@check(
    "converges",
    "Lifecycles delivered out of order, twice and concurrently leave the state an in-order run does",
    140,
    _applies,
    category="idempotency",
    bugs=CONVERGES_BUGS,
    sends=PROVIDER_SENDS,
    gated=True,
)
def converges(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Per lifecycle: the in-order reference, then drawn schedules (see docs/sequences.md); the smallest failure."""
    from harness.sequences import SequenceOptions, SequenceRunner, render_failure, repro_script

    assert ctx.state_probe is not None
    options = SequenceOptions(
        max_examples=max(1, ctx.max_examples),
        seed=ctx.seed,
        settle_timeout=ctx.settle_timeout,
        concurrency=2,
        timeout=ctx.http_timeout,
    )
    violations, notes = [], []
    probe = ctx.state_probe
    with SequenceRunner(
        ctx.provider, ctx.url, ctx.credentials, _Recorded(ctx), probe, options, state_fields=ctx.state_fields
    ) as runner:
        for lifecycle in ctx.provider.lifecycles.values():
            if ctx.budget_spent:
                notes.append(f"{lifecycle.name}: not run, the run budget (--max-time) is spent")
                continue
            result = runner.run(lifecycle)
            trial = result.failure
            if trial is None:
                notes.append(f"{lifecycle.name}: {result.examples} schedules converged")
                continue
            violations.append(
                ContractViolation(
                    "converges",
                    f"{ctx.provider.id} {lifecycle.name}: {trial.reason}",
                    "every delivery 2xx, then the state the in-order run left",
                    ctx.redactor(render_failure(result, ctx.seed, probe.describe())),
                    hint="compare versions or timestamps before writing, keep tombstones for deleted objects, and "
                    "make deduplication and the update one atomic step (see docs/sequences.md)",
                    repro=ctx.redactor(repro_script(trial, ctx.url, ctx.redactor)),
                )
            )
    return violations, notes
