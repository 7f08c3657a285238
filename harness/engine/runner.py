"""The one engine behind the CLI and the pytest plugin: plan the checks, run them, collect the outcomes."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from harness.checks import (
    CHECKS,
    PROVIDER_SENDS,
    CheckContext,
    CheckOutcome,
    ordered_ids,
    resolve_severities,
    validate_settle_timeout,
)
from harness.checks.forgeries import every_forgery_accepted
from harness.credentials import Redactor
from harness.engine.session import Session
from harness.errors import UsageError
from harness.settings.resolve import RunConfig
from harness.violations import ContractViolation

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
    blocked_cause: str | None = None
    stopped_early: bool = False
    slowest_settle: float = 0.0
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """130 when interrupted; 1 when a check failed or was blocked (warnings do not count); 0 otherwise."""
        if self.interrupted:
            return 130
        return 1 if any(o.failed for o in self.outcomes) else 0


def plan(config: RunConfig) -> list[str]:
    """The selected check ids, in stable order; an unknown id is a usage error."""
    return Session(config).plan()


def run_check(config: RunConfig, check_id: str, *, context: CheckContext | None = None) -> CheckOutcome:
    """Run one check at its resolved severity (the pytest plugin makes one item of each, sharing one context)."""
    if check_id not in ordered_ids():
        raise UsageError(f"Unknown check {check_id!r}. Known: {', '.join(ordered_ids())}.")
    if context is None:
        with Session(config) as session:
            return run_check(config, check_id, context=session.context())
    ctx = context
    severity = resolve_severities(config.severities, config.strict)[check_id]
    ctx.settle_timeout = validate_settle_timeout(config.settle_timeout)
    registered = CHECKS.get(check_id)
    started = time.perf_counter()
    before = len(ctx.exchanges)

    def done(status: str, violations: list[ContractViolation], notes: list[str]) -> CheckOutcome:
        outcome = CheckOutcome(check_id, registered.title, status, violations, notes, severity=severity)
        outcome.input_class = registered.input_class
        outcome.requests = len(ctx.exchanges) - before
        outcome.duration = time.perf_counter() - started
        return outcome

    if severity == "off":
        return done("skipped", [], ["severity off"])
    if ctx.budget_spent:
        budget = f"{config.max_time:g} s" if config.max_time is not None else "the default budget"
        return done("blocked", [], [f"not run: the run budget ({budget}, --max-time) was spent before it started"])
    skip = registered.applies(ctx)
    if skip:
        return done("skipped", [], [skip])
    ctx.sender = registered.input_class
    if registered.gated:
        cause = ctx.gate()
        if cause:
            return done("blocked", [], [cause])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # each distinct library warning once, kept off the results table
        try:
            if registered.forgery and (collapsed := every_forgery_accepted(ctx, check_id)) is not None:
                violations, notes, same_as = collapsed
            else:
                (violations, notes), same_as = registered.run(ctx), None
        finally:
            ctx.sender = PROVIDER_SENDS  # what the context sends between checks (the gate, a fixture) is the provider's
    advisory = bool(violations) and all(v.advisory for v in violations) and not config.strict
    status = (
        "passed" if not violations and same_as is None else "warned" if severity == "warn" or advisory else "failed"
    )
    if status == "passed" and len(ctx.exchanges) == before:  # never reached the handler: not a pass
        status, notes = "blocked", [*notes, "sent nothing: the provider's schemas gave this check nothing to send"]
    for violation in violations:
        violation.input_class = registered.input_class
    outcome = done(status, violations, notes)
    outcome.same_cause_as = same_as
    outcome.library_warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return outcome


def run_checks(
    config: RunConfig,
    on_result: Callable[[CheckOutcome], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
    *,
    session: Session | None = None,
    on_check: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every selected check; ``on_start`` sees the plan once inputs are valid, ``on_check`` each check as it
    starts and ``on_result`` each outcome.

    With ``config.fail_fast`` the run stops after the first failed or blocked check. Once the run budget is spent
    the remaining checks are blocked; Ctrl-C keeps the outcomes so far (``interrupted``).
    """
    own = session is None
    session = session or Session(config)
    try:
        ids = session.plan()
        ctx = session.context()
        started = time.perf_counter()
        outcomes: list[CheckOutcome] = []
        stopped = interrupted = False
        current: str | None = None
        try:
            if on_start:
                on_start(ids)
            for index, current in enumerate(ids):
                if on_check:
                    on_check(current)
                outcome = run_check(config, current, context=ctx)
                outcomes.append(outcome)
                if on_result:
                    on_result(outcome)
                if config.fail_fast and outcome.failed and index < len(ids) - 1:
                    stopped = True
                    break
        except KeyboardInterrupt:
            interrupted = True  # keep what ran: the caller prints and writes it, then exits 130
            if current is not None and all(o.check != current for o in outcomes):
                title = CHECKS.get(current).title
                outcomes.append(CheckOutcome(current, title, "blocked", notes=["interrupted before it finished"]))
        cause = next((o.notes[0] for o in outcomes if o.status == "blocked" and o.notes), None)
        return RunResult(
            config.provider,
            config.url,
            ctx.seed,
            outcomes,
            time.perf_counter() - started,
            ctx.redactor,
            blocked_cause=cause,
            stopped_early=stopped,
            slowest_settle=ctx.slowest_settle,
            interrupted=interrupted,
        )
    finally:
        if own:
            session.close()
