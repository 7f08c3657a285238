"""`webhook-harness replay FILE... URL`: recorded deliveries re-signed for now, judged like `check`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli._options import (
    MAX_COUNT,
    add_settings,
    duration,
    positive_int,
    positive_number,
    run_config_from_args,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `replay` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="replay recorded deliveries, re-signed for now",
        description="Send each recorded delivery with its exact body bytes and idempotency key, a fresh timestamp and "
        "signature. Exit 0: all acknowledged (and, with a probe, each key stored once); 1: not; 2: usage error.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE... URL", help="recordings (JSON Lines or HAR 1.2), then URL")
    parser.add_argument("--order", choices=("original", "reverse", "shuffle"), default="original")
    parser.add_argument("--duplicates", type=positive_int, default=1, metavar="N", help="send each N times")
    parser.add_argument(
        "--rate", type=positive_number(MAX_COUNT), default=None, metavar="N", help="at most N deliveries per second"
    )
    parser.add_argument("--filter", action="append", default=[], metavar="EVENT", help="only this event type (repeat)")
    parser.add_argument("--new-ids", action="store_true", help="fresh idempotency keys, so a capture replays again")
    parser.add_argument(
        "--include-failed", action="store_true", help="also replay deliveries that failed verification when recorded"
    )
    parser.add_argument(
        "--settle", type=duration("--settle"), default=1.0, metavar="SECONDS", help="wait before probing (1s)"
    )
    add_settings(parser)  # --provider (default: the one named in the records), --seed, --timeout, --report, ...
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read, plan, re-sign, send, probe; print one line per send and a summary."""
    import dataclasses
    import json

    from harness.core.text import printable
    from harness.engine.session import Session
    from harness.errors import UsageError
    from harness.recording import ReplayOptions, read_records, replay, require_credentials
    from harness.report import ensure_writable, redact_url, write_text

    if len(args.paths) < 2:
        raise UsageError("replay needs at least one recording and then the receiver URL.")
    *files, url = args.paths
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"The last argument must be the receiver's http(s) URL, got {url!r}.")
    config = run_config_from_args(args, "replay", require_target=False, url=url)
    records = [record for path in files for record in read_records(path)]
    named = {r.provider for r in records if r.provider}
    provider_id = config.provider or (named.pop() if len(named) == 1 else None)
    if provider_id is None:
        why = "the records name several providers" if named else "the records do not name one (HAR files never do)"
        raise UsageError(f"Give --provider: {why}.")
    session = Session(dataclasses.replace(config, provider=provider_id))
    provider, creds, probe, url = session.provider, session.credentials, session.probe, config.url
    require_credentials(provider, creds)
    if config.report:
        ensure_writable(config.report)
    options = ReplayOptions(
        order=args.order,
        duplicates=args.duplicates,
        rate=args.rate,
        events=tuple(args.filter),
        new_ids=args.new_ids,
        seed=config.seed if "seed" in config.given else None,
        settle=args.settle,
        timeout=config.timeout,
        include_failed=args.include_failed,
    )
    redactor = session.redactor

    def redact(text: str) -> str:  # secrets hidden, and a peer's terminal escapes and odd code points shown escaped
        return printable(redactor(text))

    print(redact(f"webhook-harness replay: {len(records)} recorded deliveries of {provider.id} to {redact_url(url)}"))

    def show(sent: Any) -> None:
        planned, reply = sent.planned, sent.reply
        types = ", ".join(dict.fromkeys(sent.signed.event_types)) or "(no event type)"
        key = sent.signed.idempotency_keys[0] if sent.signed.idempotency_keys else "-"
        verdict = "ok" if reply.ok else "REFUSED"
        line = f"#{planned.number}.{planned.copy} {types} key {key} -> {reply.describe(80)} {verdict}"
        print(redact(line), flush=True)

    with session:
        result = replay(
            provider, records, url, creds, options, probe=probe, transport=session.transport(), on_send=show
        )
    if result.interrupted:
        print("\nInterrupted: partial results (no probe round).", flush=True)
    for note in result.skipped:
        print(redact(f"skipped {note}"))
    if result.violations:
        more = (
            f" (the first {len(result.violations)} of {result.findings})"
            if result.findings > len(result.violations)
            else ""
        )
        print("\n" + "=" * 30 + " FAILURES " + "=" * 30 + more)
        for v in result.violations:
            print(redact(f"__ {v.check} __\n{v.title}\n  Expected: {v.expected}\n  Received: {v.received}"))
            if v.repro:
                print(f"  Reproduce:\n    {redact(v.repro)}")
    acknowledged = result.acknowledged
    probed = (
        f", {sum(n == 1 for n in result.counts.values())}/{len(result.counts)} keys stored once"
        if result.probed
        else " (no probe: stored-once not checked)"
    )
    print(
        f"\n{acknowledged}/{result.total} acknowledged{probed}, {len(result.skipped)} skipped in "
        f"{result.duration:.2f}s (seed {result.seed})"
    )
    if config.report:
        write_text(json.dumps(result.to_json(redactor), indent=2) + "\n", config.report)
        print(f"Report written to {config.report}")
    if result.exit_code == 1:
        print(f"Replay again with: webhook-harness replay ... --seed {result.seed}", file=sys.stderr)
    return result.exit_code
