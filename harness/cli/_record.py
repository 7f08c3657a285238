"""`webhook-harness record PROVIDER`: a capture endpoint (or, with --forward, a tap) writing JSON Lines records."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import CommandInputs, add_command_options, add_shared_options

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `record` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "record",
        help="capture deliveries byte for byte (a tap with --forward)",
        description="Store every delivery as one JSON Lines record; verify it with the given credentials; answer as "
        "the provider expects. Ctrl-C or SIGTERM prints a summary and exits 0.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    add_command_options(parser)  # --host, --port, --out, ...: the settings table's "record" entries
    add_shared_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; one line per delivery, a summary at the end."""
    from harness.recording import Limits, Recorder, oci_hosts, oci_or_loopback
    from harness.report import redact_url

    inputs = CommandInputs(args)
    provider = inputs.provider(args.provider)
    creds = inputs.credentials
    out = args.out or f"{provider.id}-recording.jsonl"
    recorder = Recorder(
        provider,
        out,
        credentials=creds,
        host=args.host,
        port=args.port,
        forward=args.forward,
        keep_auth=args.keep_auth,
        on_record=lambda line: print(line, flush=True),
        limits=Limits(max_bytes=args.max_bytes, max_records=args.max_records),
        accept_unverified=args.accept_unverified,
        confirm_allowed=oci_or_loopback if args.allow_local_confirmation else oci_hosts,
    )
    recorder.bind()
    mode = f"tap to {redact_url(args.forward)}" if args.forward else "capture"
    verifying = "verifying signatures" if _verifies(provider, creds) else "not verifying (no credentials)"
    print(f"webhook-harness record: {provider.id} {mode} at {recorder.url} -> {out} ({verifying})", flush=True)
    summary = recorder.run_until_signalled()
    print(summary.render(out), flush=True)
    return 0


def _verifies(provider: Any, creds: Any) -> bool:
    from dataclasses import replace

    from harness.signing import active_schemes

    return bool(active_schemes(provider, replace(creds, token_url=None, client_id=None, client_secret=None)))
