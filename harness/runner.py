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
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """130 when interrupted; 1 when a check failed or was blocked (never verified); 0 otherwise."""
        if self.interrupted:
            return 130
        return 1 if any(o.status in ("failed", "blocked") for o in self.outcomes) else 0


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


def _blocked_by_budget(check_id: str, config: RunConfig) -> CheckOutcome:
    budget = f"{config.max_time:g} s" if config.max_time is not None else "the default budget"
    note = f"not run: the run budget ({budget}, --max-time) was spent before this check started"
    return CheckOutcome(check_id, CHECKS.get(check_id).title, "blocked", notes=[note])


def run_checks(
    config: RunConfig,
    on_result: Callable[[CheckOutcome], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
    *,
    session: Session | None = None,
    on_check: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every selected check; ``on_start`` sees the plan once inputs are valid, ``on_check`` each check as it
    starts and ``on_result`` each outcome. Once the run budget is spent, the remaining checks are blocked."""
    own = session is None
    session = session or Session(config)
    try:
        ids = session.plan()
        ctx = session.context()
        started = time.perf_counter()
        outcomes: list[CheckOutcome] = []
        interrupted = False
        current: str | None = None
        try:
            if on_start:
                on_start(ids)
            for current in ids:
                if on_check:
                    on_check(current)
                runs = not ctx.budget_spent
                outcome = run_check(config, current, context=ctx) if runs else _blocked_by_budget(current, config)
                outcomes.append(outcome)
                if on_result:
                    on_result(outcome)
        except KeyboardInterrupt:
            interrupted = True  # keep what ran: the caller prints and writes it, then exits 130
            if current is not None and all(o.check != current for o in outcomes):
                title = CHECKS.get(current).title
                outcomes.append(CheckOutcome(current, title, "blocked", notes=["interrupted before it finished"]))
        duration = time.perf_counter() - started
        return RunResult(config.provider, config.url, ctx.seed, outcomes, duration, ctx.redactor, interrupted)
    finally:
        if own:
            session.close()
