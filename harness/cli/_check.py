"""`webhook-harness check PROVIDER URL`: the contract suite against a receiver."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from harness.cli._options import (
    add_shared_options,
    network_options_from_args,
    non_negative_int,
)
from harness.cli._progress import LiveLine
from harness.core.text import printable
from harness.credentials import CREDENTIAL_FIELDS, redact_url

if TYPE_CHECKING:
    from harness.checks import CheckOutcome
    from harness.settings import RunConfig

__all__ = ["register", "run"]


def settle_duration(text: str) -> float:
    """argparse type: a positive duration (``5``, ``5s``, ``500ms``)."""
    from harness.checks import validate_settle_timeout
    from harness.core.durations import parse_duration
    from harness.errors import UsageError

    try:
        return validate_settle_timeout(parse_duration(text, what="settle timeout"))
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def severity_overrides(warn: list[str], error: list[str]) -> dict[str, str]:
    """``--warn``/``--error`` as one mapping; naming a check in both is a usage error."""
    from harness.errors import UsageError

    both = sorted(set(warn) & set(error))
    if both:
        raise UsageError(f"Check {both[0]!r} is given both --warn and --error; choose one.")
    return {**dict.fromkeys(warn, "warn"), **dict.fromkeys(error, "error")}


def register(sub: Any) -> None:
    """Add the `check` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="run the contract checks against a receiver",
        description="Exit 0: no check failed (skipped is fine); 1: a check failed; 2: usage or configuration error, "
        "or the receiver is unreachable.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("url", metavar="URL", nargs="?", help="receiver URL (default: url in the config file)")
    add_shared_options(parser, probe=True, network=True)
    state = parser.add_argument_group("state probe (turns the converges check on; see docs/sequences.md)")
    state.add_argument("--state-url", metavar="TEMPLATE", help="GET, {object_id} substituted; JSON view, 404: none")
    state.add_argument("--state-db", metavar="URL", help="SQLAlchemy database URL for a SQL state probe")
    state.add_argument("--state-sql", metavar="QUERY", help="SQL returning the object's one row; binds :object_id")
    state.add_argument(
        "--state-field", action="append", default=[], metavar="FIELD=/POINTER", help="where a field sits in your view"
    )
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--report", metavar="PATH", help="write a JSON report")
    run_group.add_argument("--quiet", action="store_true", help="no live progress line on a terminal")
    run_group.add_argument(
        "--junitxml", metavar="PATH", help="write JUnit XML (the pytest plugin's names and text) for a CI gate"
    )
    run_group.add_argument("--seed", type=non_negative_int, help="Hypothesis seed (printed on every run)")
    run_group.add_argument("--max-examples", type=non_negative_int, default=None, help="fuzzed examples (default 20)")
    run_group.add_argument("--timeout", help="receiver timeout: seconds or 10s, 1m30s (default: the provider's)")
    run_group.add_argument(
        "--max-time",
        metavar="DURATION",
        help="run budget: after it nothing is sent and unfinished checks are blocked (default: 10 timeouts, >= 5m)",
    )
    run_group.add_argument("--check", action="append", default=[], metavar="ID", help="run only this check (repeat)")
    run_group.add_argument("--exclude-check", action="append", default=[], metavar="ID", help="skip this check")
    run_group.add_argument(
        "--callback-host", default=None, help="host the receiver can reach us on, for OCI's confirmation URL"
    )
    verdicts = parser.add_argument_group("verdicts (see docs/severities.md)")
    verdicts.add_argument(
        "--warn", action="append", default=[], metavar="ID", help="report this check's findings as warnings (repeat)"
    )
    verdicts.add_argument(
        "--error", action="append", default=[], metavar="ID", help="make this check's findings fail the run (repeat)"
    )
    verdicts.add_argument("--strict", action="store_true", help="every warn-level check fails the run")
    verdicts.add_argument("--fail-fast", action="store_true", help="stop at the first failed or blocked check")
    verdicts.add_argument(
        "--settle-timeout",
        type=settle_duration,
        default=None,
        metavar="DURATION",
        help="how long a probe read waits for the count to settle (default 5s)",
    )
    parser.set_defaults(run=run)


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The engine's RunConfig from parsed options, the environment and the config file (one resolver for all)."""
    from harness.settings import resolve_run_config

    options = {name: getattr(args, name, None) for name in CREDENTIAL_FIELDS}
    options.update(
        provider=args.provider,
        url=args.url,
        schemas=args.schemas,
        probe_url=args.probe_url,
        probe_db=args.probe_db,
        probe_sql=args.probe_sql,
        state_url=args.state_url,
        state_db=args.state_db,
        state_sql=args.state_sql,
        state_fields=args.state_field,
        seed=args.seed,
        max_examples=args.max_examples,
        timeout=args.timeout,
        max_time=args.max_time,
        checks=args.check,
        exclude_checks=args.exclude_check,
        callback_host=args.callback_host,
        report=args.report,
        severities=severity_overrides(args.warn, args.error),
        strict=args.strict or None,
        fail_fast=args.fail_fast or None,
        settle_timeout=args.settle_timeout,
        **network_options_from_args(args),
    )
    return resolve_run_config(options, config_path=args.config)


def run(args: argparse.Namespace) -> int:
    """Run the checks, print one line each, then the failures and a summary."""
    from harness.report import (
        ensure_writable,
        render_failures,
        render_outcome,
        render_summary,
        replay_command,
        to_junit,
        write_json,
        write_text,
    )
    from harness.runner import run_checks
    from harness.session import Session

    config = run_config_from_args(args)
    for path in (config.report, args.junitxml):
        if path:
            ensure_writable(path)
    live = LiveLine(sys.stderr, enabled=sys.stderr.isatty() and not args.quiet)
    with Session(config) as session:
        redact = session.redactor
        seed = session.seed
        header = f"webhook-harness check: {config.provider} at {redact_url(config.url)} (seed {seed})"

        def started(check_id: str) -> None:
            exchanges = session.context().exchanges
            before = len(exchanges)
            live.step(check_id, lambda: len(exchanges) - before)

        def finished(outcome: CheckOutcome) -> None:
            live.clear()
            print(printable(redact(render_outcome(outcome))), flush=True)

        try:
            result = run_checks(
                config,
                on_result=finished,
                on_start=lambda ids: print(printable(redact(header)), flush=True),
                session=session,
                on_check=started,
            )
        finally:
            live.close()
    if result.interrupted:
        print("\ninterrupted: the results so far follow", file=sys.stderr)
    failures = render_failures([o for o in result.outcomes if o.status in ("failed", "blocked", "warned")], seed)
    if failures:
        title = " FAILURES " if result.exit_code else " WARNINGS "
        print("\n" + "=" * 30 + title + "=" * 30)
        print(printable(redact(failures)))
    print("\n" + printable(redact(render_summary(result))))
    if result.exit_code:
        print(redact("Replay with: " + replay_command(config)))
    if config.report:
        write_json(result, config.report)
        print(f"Report written to {config.report}")
    if args.junitxml:
        write_text(to_junit(result, replay_command(config)), args.junitxml, "JUnit XML")
        print(f"JUnit XML written to {args.junitxml}")
    return result.exit_code
