"""`webhook-harness import openapi|asyncapi SPEC`: a provider catalog folder from a machine-readable spec."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from harness.cli._options import add_command_options
from harness.errors import UsageError

__all__ = ["register", "run"]

_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


def register(sub: Any) -> None:
    """Add the `import` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "import", help="write a provider catalog folder from an OpenAPI webhooks or AsyncAPI document"
    )
    parser.add_argument("kind", choices=["openapi", "asyncapi"], help="the spec's format")
    parser.add_argument("spec", metavar="SPEC", type=Path, help="the document (JSON or YAML)")
    add_command_options(parser)  # --id, --out, --scheme, ...: the settings table's "import" entries
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, then say what was written and what was assumed."""
    from harness.importers import ImportOptions, import_spec

    if not _ID.match(args.id):
        raise UsageError(f"--id {args.id!r}: use lower-case letters, digits, '-' and '_', starting with a letter.")
    if args.event_pointer is not None and not args.event_pointer.startswith("/"):
        raise UsageError(f"--event-pointer {args.event_pointer!r}: a JSON Pointer starts with '/'.")
    options = ImportOptions(
        provider_id=args.id,
        out=Path(args.out),
        scheme=args.scheme,
        event_header=args.event_header,
        event_pointer=args.event_pointer,
        force=args.force,
    )
    result = import_spec(
        args.kind,
        args.spec,
        options,
        allow_remote_refs=args.allow_remote_refs,
        allow_local_refs=[Path(folder) for folder in args.allow_local_refs],
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    total = sum(result.events.values())
    print(f"Wrote {result.folder}: {len(result.events)} event types, {total} samples, signed with {result.scheme!r}.")
    print(f"Event type: {result.event_type}.")
    for name, samples in result.events.items():
        print(f"  {name} ({samples} sample{'s' if samples != 1 else ''})")
    print(f"Assumptions ({len(result.assumptions)}, in profile.json; check and correct them):")
    for key, text in result.assumptions.items():
        print(f"  {key}: {text}")
    print(f"Use it: webhook-harness check {args.id} URL --schemas {args.out} --secret S")
    if result.dropped:
        print(f"Not imported ({len(result.dropped)} webhook{'s' if len(result.dropped) != 1 else ''}):")
        for key, why in result.dropped.items():
            print(f"  {key}: {why}")
        if not args.allow_partial:
            print("Some webhooks were not imported (exit 1); pass --allow-partial to accept the partial catalog.")
            return 1
    return 0
