"""`webhook-harness drift PROVIDER FILE...`: recorded bodies validated against the catalog's schemas."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import CommandInputs, add_command_options, add_shared_options

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `drift` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "drift",
        help="validate recorded deliveries against the provider's schemas",
        description="Exit 0: every event fits its schema (added fields and unknown event types are information); "
        "1: a schema violation (or, with --strict, any drift); 2: usage error.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings (JSON Lines or HAR 1.2)")
    add_command_options(parser)  # --report, --propose, --force, --strict
    add_shared_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Analyse, print, write the report and the overlay."""
    import json
    from itertools import chain
    from pathlib import Path

    from harness.core.text import printable
    from harness.credentials import Redactor
    from harness.recording import analyse_drift, read_records, write_overlay
    from harness.report import ensure_writable, write_text

    inputs = CommandInputs(args)
    provider = inputs.provider(args.provider)
    redact = Redactor(inputs.credentials.secrets())
    if args.report:
        ensure_writable(args.report)
    records = chain.from_iterable(read_records(path) for path in args.files)
    report = analyse_drift(provider, records, redact=redact, strict=args.strict)
    print(printable(redact(report.render())))  # event names, fields and values come from the recorded peers
    if args.report:
        write_text(redact(json.dumps(report.to_json(), indent=2)) + "\n", args.report)
        print(f"Report written to {args.report}")
    if args.propose:
        changed = write_overlay(provider, report, args.propose, redact, force=args.force)
        print(f"Proposed {len(changed)} widened files under {Path(args.propose) / provider.id} (load with --schemas)")
    return report.exit_code
