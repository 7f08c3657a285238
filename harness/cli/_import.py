"""`webhook-harness import openapi|asyncapi SPEC`: a provider catalog folder from a machine-readable spec."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

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
    parser.add_argument("--id", required=True, dest="provider_id", metavar="NAME", help="the new provider's id")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="the catalog folder to write into")
    parser.add_argument(
        "--scheme",
        metavar="PROVIDER|FILE.json",
        help="signing: copy a built-in provider's declarative scheme, or read an auth.hmac description (default:"
        " guessed from the spec's signature header)",
    )
    parser.add_argument("--event-header", metavar="H", help="the header that names the event type")
    parser.add_argument("--event-pointer", metavar="P", help="the body field (JSON Pointer) that names the event type")
    parser.add_argument("--allow-remote-refs", action="store_true", help="fetch $refs to http(s) URLs")
    parser.add_argument(
        "--allow-local-refs",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="also read local $refs under DIR (default: only files under the spec's own folder; repeat)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing provider folder")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 even when some webhooks could not be imported (they are still listed)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, then say what was written and what was assumed."""
    from harness.importers import ImportOptions, import_spec

    if not _ID.match(args.provider_id):
        raise UsageError(
            f"--id {args.provider_id!r}: use lower-case letters, digits, '-' and '_', starting with a letter."
        )
    if args.event_pointer is not None and not args.event_pointer.startswith("/"):
        raise UsageError(f"--event-pointer {args.event_pointer!r}: a JSON Pointer starts with '/'.")
    options = ImportOptions(
        provider_id=args.provider_id,
        out=args.out,
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
        allow_local_refs=args.allow_local_refs,
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
    print(f"Use it: webhook-harness check {args.provider_id} URL --schemas {args.out} --secret S")
    if result.dropped:
        print(f"Not imported ({len(result.dropped)} webhook{'s' if len(result.dropped) != 1 else ''}):")
        for key, why in result.dropped.items():
            print(f"  {key}: {why}")
        if not args.allow_partial:
            print("Some webhooks were not imported (exit 1); pass --allow-partial to accept the partial catalog.")
            return 1
    return 0
