"""`webhook-harness sequences PROVIDER URL`: lifecycles in the orders a provider really produces must converge."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import TYPE_CHECKING, Any

from harness.cli._options import add_settings, bounded_int, duration, run_config_from_args
from harness.core.text import printable
from harness.credentials import redact_url

if TYPE_CHECKING:
    from harness.checks import CheckOutcome
    from harness.credentials import Redactor
    from harness.sequences import LifecycleResult

__all__ = ["register", "run"]

DEFAULT_EXAMPLES = 50
DEFAULT_SETTLE = 2.0


def register(sub: Any) -> None:
    """Add the `sequences` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "sequences",
        help="send lifecycles out of order, duplicated and concurrently; the receiver's state must converge",
        description="Exit 0: every lifecycle converged; 1: a schedule left the wrong state or got no 2xx; 2: usage "
        "or configuration error. See docs/sequences.md.",
    )
    add_settings(parser)  # PROVIDER [URL], credentials, the state probe, network, --seed, --timeout, --report
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--lifecycle", action="append", default=[], metavar="NAME", help="only this one (repeat)")
    run_group.add_argument(
        "--max-examples", type=bounded_int(10_000, 1), default=DEFAULT_EXAMPLES, help="schedules per lifecycle (50)"
    )
    run_group.add_argument(
        "--settle-timeout",
        type=duration("--settle-timeout", 3600.0, positive=True),
        default=DEFAULT_SETTLE,
        metavar="DURATION",
        help="how long the state may take to reach the expected one after a schedule (default 2s)",
    )
    run_group.add_argument(
        "--concurrency", type=bounded_int(8, 1), default=2, help="deliveries in flight together, at most (default 2)"
    )
    run_group.add_argument("--junitxml", metavar="PATH", help="write JUnit XML for a CI gate")
    parser.set_defaults(run=run)


def _outcome(result: LifecycleResult, seed: int, probe: str, url: str, redact: Redactor) -> CheckOutcome:
    """A lifecycle's verdict as a check outcome, so the report, JSON and JUnit writers of `check` render it."""
    from harness.checks import CheckOutcome
    from harness.sequences import render_failure, repro_script
    from harness.violations import ContractViolation

    name = f"converges[{result.lifecycle.name}]"
    title = f"{result.lifecycle.name} converges whatever the delivery order"
    outcome = CheckOutcome(
        name, title, "passed", requests=result.requests, duration=result.duration, notes=list(result.notes)
    )
    trial = result.failure
    if trial is not None:
        outcome.status = "failed"
        outcome.violations.append(
            ContractViolation(
                name,
                f"{result.provider} {result.lifecycle.name}: {trial.reason}",
                "every delivery 2xx, then the state the in-order run left",
                redact(render_failure(result, seed, probe)),
                hint="compare versions or timestamps before writing, keep tombstones for deleted objects, and make "
                "deduplication and the update one atomic step (see docs/sequences.md)",
                repro=redact(repro_script(trial, url, redact)),
            )
        )
    else:
        outcome.notes.append(f"{result.examples} schedules converged on the reference state")
    return outcome


def run(args: argparse.Namespace) -> int:
    """The reference run and the drawn schedules, per lifecycle; then the failures and a summary."""
    from harness.engine.runner import RunResult
    from harness.engine.session import Session
    from harness.errors import UsageError
    from harness.report import ensure_writable, render_failures, render_outcome, to_junit, write_json, write_text
    from harness.sequences import SequenceOptions, SequenceRunner, field_pointers

    config = run_config_from_args(args, "sequences")
    probe = config.state_probe
    if probe is None:
        raise UsageError("sequences needs a state probe: --state-url URL/{object_id}, or --state-db with --state-sql.")
    for path in (config.report, args.junitxml):
        if path:
            ensure_writable(path)
    started = time.perf_counter()
    with Session(config) as session:
        provider = session.provider
        if not provider.lifecycles:
            raise UsageError(f"Provider {provider.id!r} declares no lifecycles (see docs/sequences.md to add one).")
        chosen = [provider.lifecycle(name) for name in args.lifecycle] or list(provider.lifecycles.values())
        for lifecycle in chosen:
            field_pointers(lifecycle, config.state_fields)  # a malformed --state-field is reported before sending
        ctx = session.context()
        redact, seed = session.redactor, session.seed
        print(printable(redact(f"webhook-harness sequences: {provider.id} at {redact_url(config.url)} (seed {seed})")))
        opts = SequenceOptions(
            max_examples=args.max_examples,
            seed=seed,
            settle_timeout=args.settle_timeout,
            concurrency=args.concurrency,
            timeout=ctx.http_timeout,
        )
        outcomes = []
        with SequenceRunner(
            provider, ctx.url, ctx.credentials, ctx.transport, probe, opts, state_fields=config.state_fields
        ) as runner:
            for lifecycle in chosen:
                outcome = _outcome(runner.run(lifecycle), seed, probe.describe(), ctx.url, redact)
                outcomes.append(outcome)
                print(printable(redact(render_outcome(outcome))), flush=True)
    result = RunResult(provider.id, config.url, seed, outcomes, time.perf_counter() - started, redact)
    failures = render_failures([o for o in outcomes if o.status == "failed"], seed)
    if failures:
        print("\n" + "=" * 30 + " FAILURES " + "=" * 30)
        print(printable(failures))
    passed = sum(o.status == "passed" for o in outcomes)
    requests = sum(o.requests for o in outcomes)
    took = f"{result.duration:.2f}s ({requests} requests, seed {seed})"
    print(f"\n{passed} of {len(outcomes)} lifecycles converged in {took}")
    words = ["webhook-harness", "sequences", provider.id, redact_url(config.url), "--seed", str(seed)]
    template = getattr(probe, "template", None)
    if isinstance(template, str):
        words += ["--state-url", redact_url(template)]
    words += [f"--lifecycle={name}" for name in args.lifecycle]
    replay = shlex.join(words)
    if result.exit_code:
        print(redact("Replay with: " + replay), file=sys.stdout)
    if config.report:
        write_json(result, config.report)
        print(f"Report written to {config.report}")
    if args.junitxml:
        write_text(to_junit(result, replay), args.junitxml, "JUnit XML")
        print(f"JUnit XML written to {args.junitxml}")
    return result.exit_code
