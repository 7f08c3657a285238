"""`webhook-harness record PROVIDER`: a capture endpoint (or, with --forward, a tap) writing JSON Lines records."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import (
    CommandInputs,
    add_shared_options,
    bounded_int,
    port_number,
    positive_int,
)

__all__ = ["register", "run"]

DEFAULT_MAX_BYTES = 1 << 30  # as harness.recording.Limits (not imported here: --help stays free of aiohttp)
DEFAULT_MAX_RECORDS = 100_000


def register(sub: Any) -> None:
    """Add the `record` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "record",
        help="capture deliveries byte for byte (a tap with --forward)",
        description="Store every delivery as one JSON Lines record; verify it with the given credentials; answer as "
        "the provider expects. Ctrl-C or SIGTERM prints a summary and exits 0.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8787, help="port (default 8787; 0 picks one)")
    parser.add_argument(
        "--out", metavar="FILE", default=None, help="JSON Lines file, appended to (default PROVIDER-recording.jsonl)"
    )
    parser.add_argument("--forward", metavar="URL", help="tap mode: relay each delivery unchanged to this receiver")
    parser.add_argument(
        "--keep-auth", action="store_true", help="store Authorization, signature and cookie headers as received"
    )
    parser.add_argument(
        "--max-bytes",
        type=bounded_int(1 << 50, 1),
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"stop storing (answer 503) once this session wrote N bytes (default {DEFAULT_MAX_BYTES:,}, 1 GiB)",
    )
    parser.add_argument(
        "--max-records",
        type=positive_int,
        default=DEFAULT_MAX_RECORDS,
        metavar="N",
        help=f"stop storing (answer 503) after N records (default {DEFAULT_MAX_RECORDS:,})",
    )
    parser.add_argument(
        "--accept-unverified",
        action="store_true",
        help="store and answer 2xx deliveries that fail verification (default with credentials: 401, not stored)",
    )
    parser.add_argument(
        "--allow-local-confirmation",
        action="store_true",
        help="let a handshake's confirmation URL be a loopback address (default: only the provider's own hosts)",
    )
    add_shared_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; one line per delivery, a summary at the end."""
    from urllib.parse import urlsplit

    from harness.errors import UsageError
    from harness.recording import Limits, Recorder, oci_hosts, oci_or_loopback
    from harness.report import redact_url

    inputs = CommandInputs(args)
    provider = inputs.provider(args.provider)
    creds = inputs.credentials
    if args.forward:
        try:
            parts = urlsplit(args.forward)
            parts.port  # noqa: B018  # a malformed port or IPv6 address raises here, not on the first delivery
        except ValueError as exc:
            raise UsageError(f"--forward {args.forward!r} is not a usable URL ({exc}).") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--forward must be an http(s) URL, got {args.forward!r}.")
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
