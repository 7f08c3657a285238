"""`webhook-harness generate PROVIDER`: realistic deliveries, valid or not, as JSON, JSON lines or raw HTTP."""

from __future__ import annotations

import argparse
import json
import random
from typing import Any

from harness.cli._options import add_catalog_options, add_command_options, catalog_from_args

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `generate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("generate", help="print generated deliveries")
    parser.add_argument("provider", metavar="PROVIDER")
    add_command_options(parser)  # --event, -n/--count, --now, --seed, --invalid|--malformed|--novel, --format
    add_catalog_options(parser)
    parser.set_defaults(run=run)


def _draw(strategy: Any, seed: int, count: int) -> list[Any]:
    """Draw ``count`` examples reproducibly from a Hypothesis strategy."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    out: list[Any] = []

    @settings(max_examples=count * 3 + 5, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(value: Any) -> None:
        if len(out) < count:
            out.append(value)

    collect()
    return out[:count]


def run(args: argparse.Namespace) -> int:
    """Print deliveries."""
    import time

    from harness.core.models import Delivery
    from harness.volume import VolumeGenerator

    provider = catalog_from_args(args).get(args.provider)
    if args.event:
        provider.event(args.event)
    now = args.now if args.now is not None else time.time() // 86_400 * 86_400  # same seed, same output all day
    items: list[Any]
    if args.invalid or args.malformed or args.novel:  # only these need Hypothesis
        from harness.strategies import invalid_payloads, malformed_bodies, novel_deliveries

        strategy: Any
        if args.invalid:
            strategy = invalid_payloads(provider, args.event)
        elif args.malformed:
            strategy = malformed_bodies(provider)
        else:
            strategy = novel_deliveries(provider)
        items = _draw(strategy, args.seed, args.count)
    else:
        items = list(
            VolumeGenerator(provider, seed=args.seed).deliveries(args.count, args.event, batch_size=None, now=now)
        )
    rng = random.Random(args.seed)
    for item in items:
        if isinstance(item, Delivery):
            headers, body, note = dict(item.headers), item.body, item.label
        elif hasattr(item, "payload"):
            from harness.deliveries import build_delivery

            payload = [item.payload] if provider.body.shape == "batch" else item.payload
            built = build_delivery(provider, payload, event_types=[item.event], rng=rng, now=now)
            headers, body, note = dict(built.headers), built.body, item.reason
        else:
            headers, body, note = {"Content-Type": item.content_type}, item.body, item.reason
        if args.format == "http":
            print(f"### {note}")
            print(f"{provider.method} /webhook HTTP/1.1")
            for name, value in headers.items():
                print(f"{name}: {value}")
            shown = body[:2000].decode("utf-8", "replace")
            print(f"\n{shown}{'…' if len(body) > 2000 else ''}\n")
        elif args.format == "jsonl":
            print(_one_line(body))
        else:
            from harness.recording import Record, rfc3339

            path = f"/webhooks/{provider.id}"
            record = Record(provider.method, path, headers, body, "", rfc3339(now), None, provider.id)
            print(json.dumps({**record.to_json(), "label": note}, ensure_ascii=False, separators=(",", ":")))
    return 0


def _one_line(body: bytes) -> str:
    """The body on one line: as is when it is one already, else its JSON compacted (or its newlines escaped)."""
    text = body.rstrip(b"\r\n").decode("utf-8", "replace")
    if "\n" not in text:
        return text
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(", ", ": "))
    except ValueError:
        return text.replace("\n", "\\n")
