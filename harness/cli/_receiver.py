"""`webhook-harness receiver PROVIDER`: run the reference receiver (optionally with a deliberate bug)."""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
from typing import Any

from harness.cli._options import CommandInputs, add_command_options, add_shared_options

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `receiver` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "receiver", help="run the reference receiver for a provider (a correct one, or with --bug)"
    )
    parser.add_argument("provider", metavar="PROVIDER", nargs="?")
    add_command_options(parser)  # --host, --port, --bug, --mode, --db, --public-url, --list-bugs
    add_shared_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; print the URL, the probe and the credentials to use."""
    from harness.errors import UsageError
    from harness.receiver import BUGS, ReferenceReceiver

    inputs = CommandInputs(args)
    catalog = inputs.catalog
    if args.list_bugs:
        chosen_provider = catalog.get(args.provider) if args.provider else None
        for bug in BUGS.values():
            if chosen_provider is not None:
                expected = bug.expected_failures(chosen_provider)
                if not expected:
                    continue
                print(f"{bug.name:<22} {bug.description}")
                print(f"{'':<22} fails on {chosen_provider.id}: {', '.join(sorted(expected))}")
                continue
            where = ", ".join(sorted(bug.only)) if bug.only else "every provider it applies to"
            where += f" but {', '.join(sorted(bug.excluded))}" if bug.excluded else ""
            print(f"{bug.name:<22} {bug.description}")
            print(f"{'':<22} fails: {', '.join(sorted(bug.fails))}  ({where})")
        print(
            "Correct receivers (--mode): strict validates every event; lenient reads only what it needs; "
            "queue-first answers 2xx and stores a moment later."
        )
        return 0
    if not args.provider:
        raise UsageError("Name a provider, e.g. webhook-harness receiver sendgrid (or --list-bugs).")
    provider = catalog.get(args.provider)
    given = inputs.credentials
    chosen = given if given.secrets() or given.signing_key else None  # none given: the receiver makes fresh ones
    receiver = ReferenceReceiver(
        provider,
        credentials=chosen,
        bug=args.bug,
        db_url=args.db,
        host=args.host,
        port=args.port,
        mode=args.mode,
        public_url=args.public_url,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())  # SIGTERM cleans up as Ctrl-C does
    try:
        with receiver as rx:
            rx.settle()  # this process serves only the receiver: its schemas compiled, start-up's objects frozen
            _banner(rx, provider.id, args.bug, given=chosen is not None)
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass
            print("stopped", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _banner(rx: Any, provider_id: str, bug: str | None, *, given: bool) -> None:
    """URL, probe, and how to run check against it; secrets the user gave are never echoed."""
    creds = rx.credentials
    print(f"Reference {provider_id} receiver{f' with bug {bug!r}' if bug else ''} listening.")
    print(f"  URL:   {rx.url}")
    print(f"  probe: {rx.probe_url}")
    print(f"  state: {rx.state_url}  (for webhook-harness sequences --state-url)")
    if rx.public_key:
        print(f"  public key (base64 SPKI): {rx.public_key}")
    flags = []
    if creds.token_url:
        flags += ["--token-url", creds.token_url, "--client-id", creds.client_id or ""]
    command = shlex.join(["webhook-harness", "check", provider_id, rx.url, *flags, "--probe-url", rx.probe_url])
    if given:
        print("  It checks the credentials you gave (not shown here); pass the same ones to check.")
        print(f"  then: {command}")
        print("Ctrl-C to stop.", flush=True)
        return
    print("  This local test receiver made throw-away test credentials; to use them against it:")
    exports = {
        "WEBHOOK_HARNESS_SECRET": creds.secret,
        "WEBHOOK_HARNESS_SIGNING_KEY": creds.signing_key,
        "WEBHOOK_HARNESS_CLIENT_SECRET": creds.client_secret,
        "WEBHOOK_HARNESS_BASIC": f"{creds.basic[0]}:{creds.basic[1]}" if creds.basic else None,
    }
    for name, value in exports.items():
        if value:
            print(f"    export {name}={shlex.quote(value)}")
    if creds.basic:
        command += ' --basic "$WEBHOOK_HARNESS_BASIC"'  # the password stays off the command line
    print(f"  then: {command}")
    print("Ctrl-C to stop.", flush=True)
