"""`webhook-harness check PROVIDER URL`: the contract suite against a receiver."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from harness.cli._options import add_settings, run_config_from_args
from harness.cli._progress import LiveLine
from harness.core.text import printable
from harness.credentials import redact_url

if TYPE_CHECKING:
    from harness.checks import CheckOutcome

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `check` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="run the contract checks against a receiver",
        description="Exit 0: no check failed (skipped is fine); 1: a check failed; 2: usage or configuration error, "
        "or the receiver is unreachable.",
    )
    add_settings(parser)  # [PROVIDER] [URL] and every option the settings table gives `check`
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks, print one line each, then the failures and a summary."""
    from harness.engine.runner import run_checks
    from harness.engine.session import Session
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

    config = run_config_from_args(args, "check")
    junitxml = config.given.get("junitxml")
    for path in (config.report, junitxml):
        if path:
            ensure_writable(path)
    live = LiveLine(sys.stderr, enabled=sys.stderr.isatty() and not config.given.get("quiet"))
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
    failures = render_failures(result.outcomes, seed)  # blocked, failed, warned, then library warnings once
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
    if junitxml:
        write_text(to_junit(result, replay_command(config)), junitxml, "JUnit XML")
        print(f"JUnit XML written to {junitxml}")
    return result.exit_code
