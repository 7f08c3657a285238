"""The one engine behind the CLI and the pytest plugin: plan the checks, run them, collect the outcomes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.checks import CHECKS, CheckContext, CheckOutcome, ordered_ids
from harness.credentials import Redactor
from harness.errors import UsageError
from harness.session import Session
from harness.settings import RunConfig

__all__ = ["RunConfig", "RunResult", "plan", "run_check", "run_checks"]


@dataclass
class RunResult:
    """The outcomes of a run and what the exit code is."""

    provider: str
    url: str
    seed: int
    outcomes: list[CheckOutcome]
    duration: float
    redactor: Redactor

    @property
    def exit_code(self) -> int:
        """0 when no check failed, 1 otherwise."""
        return 1 if any(o.status == "failed" for o in self.outcomes) else 0


def plan(config: RunConfig) -> list[str]:
    """The selected check ids, in stable order; an unknown id is a usage error."""
    return Session(config).plan()


def run_check(config: RunConfig, check_id: str, *, context: CheckContext | None = None) -> CheckOutcome:
    """Run one check (the pytest plugin makes one item of each, all sharing its session's context)."""
    if check_id not in ordered_ids():
        raise UsageError(f"Unknown check {check_id!r}. Known: {', '.join(ordered_ids())}.")
    if context is None:
        with Session(config) as session:
            return run_check(config, check_id, context=session.context())
    ctx = context
    registered = CHECKS.get(check_id)
    started = time.perf_counter()
    skip = registered.applies(ctx)
    if skip:
        return CheckOutcome(check_id, registered.title, "skipped", notes=[skip])
    before = len(ctx.exchanges)
    violations, notes = registered.run(ctx)
    status = "failed" if violations else "passed"
    outcome = CheckOutcome(check_id, registered.title, status, violations, notes)
    outcome.requests = len(ctx.exchanges) - before
    outcome.duration = time.perf_counter() - started
    return outcome


def run_checks(
    config: RunConfig,
    on_result: Callable[[CheckOutcome], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
    *,
    session: Session | None = None,
) -> RunResult:
    """Run every selected check; ``on_start`` sees the plan once inputs are valid, ``on_result`` each outcome."""
    own = session is None
    session = session or Session(config)
    try:
        ids = session.plan()
        ctx = session.context()
        if on_start:
            on_start(ids)
        started = time.perf_counter()
        outcomes = []
        for check_id in ids:
            outcome = run_check(config, check_id, context=ctx)
            outcomes.append(outcome)
            if on_result:
                on_result(outcome)
        return RunResult(config.provider, config.url, ctx.seed, outcomes, time.perf_counter() - started, ctx.redactor)
    finally:
        if own:
            session.close()
