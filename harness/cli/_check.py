"""`webhook-harness check PROVIDER URL`: the contract suite against a receiver."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli._options import (
    add_auth_options,
    add_catalog_options,
    add_probe_options,
    catalog_from_args,
    config_from_args,
    credentials_from_args,
    non_negative_int,
)
from harness.credentials import Redactor

__all__ = ["register", "run"]


def positive_float(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


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
    parser.add_argument("url", metavar="URL")
    add_auth_options(parser)
    add_probe_options(parser)
    add_catalog_options(parser)
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--report", metavar="PATH", help="write a JSON report")
    run_group.add_argument("--seed", type=non_negative_int, help="Hypothesis seed (printed on every run)")
    run_group.add_argument("--max-examples", type=non_negative_int, default=None, help="fuzzed examples (default 20)")
    run_group.add_argument("--timeout", type=positive_float, help="receiver timeout in seconds (default: provider's)")
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


def run_config_from_args(args: argparse.Namespace) -> Any:
    """The engine's RunConfig from parsed options, the environment and the config file."""
    from harness.probes import make_probe
    from harness.runner import RunConfig

    config = config_from_args(args)
    return RunConfig(
        provider=args.provider,
        url=args.url,
        credentials=credentials_from_args(args, config),
        catalog=catalog_from_args(args, config),
        probe=make_probe(
            args.probe_url or config.get("probe_url"),
            args.probe_db or config.get("probe_db"),
            args.probe_sql or config.get("probe_sql"),
        ),
        seed=args.seed if args.seed is not None else config.get("seed"),
        max_examples=args.max_examples if args.max_examples is not None else int(config.get("max_examples", 20)),
        timeout=args.timeout or config.get("timeout"),
        checks=args.check or config.get("checks", []),
        exclude_checks=args.exclude_check or config.get("exclude_checks", []),
        callback_host=args.callback_host or config.get("callback_host", "127.0.0.1"),
        severities=severity_overrides(args.warn, args.error),
        strict=args.strict,
        fail_fast=args.fail_fast,
        settle_timeout=args.settle_timeout if args.settle_timeout is not None else 5.0,
    )


def run(args: argparse.Namespace) -> int:
    """Run the checks, print one line each, then the failures and a summary."""
    from harness.report import ensure_writable, redact_url, render_failures, render_outcome, render_summary, write_json
    from harness.runner import run_checks

    config = run_config_from_args(args)
    if args.report:
        ensure_writable(args.report)
    redact = Redactor(config.credentials.secrets())
    seed = config.resolved_seed()
    header = f"webhook-harness check: {config.provider} at {redact_url(config.url)} (seed {seed})"
    result = run_checks(
        config,
        on_result=lambda outcome: print(redact(render_outcome(outcome)), flush=True),
        on_start=lambda ids: print(redact(header), flush=True),
    )
    failures = render_failures([o for o in result.outcomes if o.status in ("failed", "blocked", "warned")], seed)
    if failures:
        title = " FAILURES " if result.exit_code else " WARNINGS "
        print("\n" + "=" * 30 + title + "=" * 30)
        print(redact(failures))
    print("\n" + redact(render_summary(result)))
    if result.exit_code:
        print(f"Replay with: webhook-harness check {config.provider} URL ... --seed {seed}", file=sys.stderr)
    if args.report:
        write_json(result, args.report)
        print(f"Report written to {args.report}")
    return result.exit_code
