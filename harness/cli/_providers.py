"""`webhook-harness providers`: the catalog as a table."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from harness.cli._options import add_catalog_options, catalog_from_args
from harness.core.durations import format_duration
from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.catalog import Provider

__all__ = ["register", "retry_summary"]


def register(sub: Any) -> None:
    """Add the `providers` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "providers", help="list providers: event types, auth scheme, idempotency key, retry policy"
    )
    add_catalog_options(parser)
    parser.add_argument("provider", nargs="?", metavar="PROVIDER", help="list this provider's event types")
    parser.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="GLOB",
        help="with PROVIDER: only event types matching GLOB (pull_request.*; repeat)",
    )
    parser.add_argument("--details", action="store_true", help="also list every event type, header and assumption")
    parser.add_argument("--json", action="store_true", help="print the catalog as JSON")
    parser.set_defaults(run=run)


def retry_summary(provider: Provider) -> str:
    """One phrase for a provider's retry policy."""
    retry = provider.retry
    if retry.max_attempts == 1:
        return "no retries"
    parts = []
    if retry.max_attempts:
        parts.append(f"{retry.max_attempts} attempts")
    if retry.window:
        parts.append(f"within {format_duration(retry.window)}")
    delays = [format_duration(d) for d in retry.delays]
    if retry.factor:
        parts.append(f"backoff ×{retry.factor:g} from {delays[-1] if delays else '0s'}")
    elif delays:
        parts.append("delays " + ",".join(delays))
    return ", ".join(parts) or "unspecified"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _events(provider: Provider, patterns: list[str]) -> int:
    """One provider's event types, one a line with its description, filtered by globs."""
    names = provider.events_matching(patterns) if patterns else provider.ordinary_events
    if not names:
        shown = ", ".join(patterns)
        raise UsageError(f"{provider.id} has no event type matching {shown} ({len(provider.ordinary_events)} types).")
    width = max(len(name) for name in names)
    for name in names:
        print(f"{name.ljust(width)}  {provider.events[name].description[:100]}".rstrip())
    total = len(provider.ordinary_events)
    print(f"{len(names)} of {total} event types" + (f" match {', '.join(patterns)}" if patterns else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    """Print the provider table."""
    catalog = catalog_from_args(args)
    if args.provider is not None:
        return _events(catalog.get(args.provider), args.event)
    if args.event:
        raise UsageError("--event GLOB filters one provider's event types: name the PROVIDER too.")
    if args.json:
        print(json.dumps({p.id: dict(p.raw) for p in catalog}, indent=2))
        return 0
    rows = [["provider", "events", "auth scheme", "idempotency key", "timeout", "retry policy"]]
    for p in catalog:
        rows.append(
            [
                p.id,
                str(len(p.ordinary_events)),
                "+".join(p.auth.schemes),
                p.idempotency_key.describe(),
                format_duration(p.timeout),
                retry_summary(p),
            ]
        )
    print(_table(rows))
    if args.details:
        for p in catalog:
            print(f"\n{p.id}: {p.title}")
            print("  events: " + ", ".join(p.ordinary_events))
            if p.handshake:
                hs = p.handshake
                print(f"  handshake: {hs.kind} ({hs.event or f'{hs.challenge_in} {hs.challenge_name}'})")
            print(f"  body: {p.body.shape}, {p.content_type}, at most {p.body.max_bytes} bytes")
            for name, spec in p.headers.items():
                print(f"  header {name}: {spec.get('value') or 'generated ' + str(spec.get('generate'))}")
            for key, why in p.assumptions.items():
                print(f"  assumption {key}: {why}")
    return 0
