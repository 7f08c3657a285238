"""`webhook-harness check PROVIDER URL`: the contract suite against a receiver."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli._options import (
    MAX_TIMEOUT,
    add_auth_options,
    add_catalog_options,
    add_probe_options,
    catalog_from_args,
    config_from_args,
    credentials_from_args,
    duration,
    http_url,
    non_negative_int,
)
from harness.credentials import Redactor

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `check` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="run the contract checks against a receiver",
        description="Exit 0: no check failed (skipped is fine); 1: a check failed; 2: usage or configuration error, "
        "or the receiver is unreachable.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("url", metavar="URL", type=http_url)
    add_auth_options(parser)
    add_probe_options(parser)
    add_catalog_options(parser)
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--report", metavar="PATH", help="write a JSON report")
    run_group.add_argument("--seed", type=non_negative_int, help="Hypothesis seed (printed on every run)")
    run_group.add_argument("--max-examples", type=non_negative_int, default=None, help="fuzzed examples (default 20)")
    run_group.add_argument(
        "--timeout",
        type=duration("--timeout", MAX_TIMEOUT, positive=True),
        metavar="DURATION",
        help="receiver timeout: seconds or 10s, 500ms (default: provider's)",
    )
    run_group.add_argument("--check", action="append", default=[], metavar="ID", help="run only this check (repeat)")
    run_group.add_argument("--exclude-check", action="append", default=[], metavar="ID", help="skip this check")
    run_group.add_argument(
        "--callback-host", default=None, help="host the receiver can reach us on, for OCI's confirmation URL"
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
    if args.report:  # before the long output: a reader that goes away (| head) or Ctrl-C cannot lose it
        write_json(result, args.report)
    failures = render_failures([o for o in result.outcomes if o.status == "failed"], seed)
    if failures:
        print("\n" + "=" * 30 + " FAILURES " + "=" * 30)
        print(redact(failures))
    print("\n" + redact(render_summary(result)))
    if result.exit_code:
        print(f"Replay with: webhook-harness check {config.provider} URL ... --seed {seed}", file=sys.stderr)
    if args.report:
        print(f"Report written to {args.report}")
    return result.exit_code
