"""`webhook-harness send PROVIDER URL`: one signed delivery, and the exchange printed with secrets redacted."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import add_settings, run_config_from_args
from harness.core.models import Delivery
from harness.core.text import printable

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `send` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "send",
        help="send one signed delivery and show the exchange",
        description="Exit 0: the receiver answered 2xx; 1: it answered anything else, or not within the timeout; "
        "2: usage or configuration error, or the receiver is unreachable.",
    )
    add_settings(parser)  # [PROVIDER] [URL], --seed, --timeout, credentials, network, catalog
    parser.add_argument("--event", metavar="TYPE", help="event type (default: a random one)")
    parser.add_argument("--variant", help="send a forgery instead: missing, wrong-key, tampered-body, ...")
    parser.set_defaults(run=run)


def _carried_credentials(delivery: Delivery) -> list[str]:
    """The credential parts of the delivery's Authorization header (a fetched token, a Basic pair)."""
    value = delivery.header("Authorization") or ""
    scheme, _, credential = value.partition(" ")
    return [credential.strip()] if scheme.lower() in ("bearer", "basic") and credential.strip() else []


def run(args: argparse.Namespace) -> int:
    """Build, sign, send, print. Exit 0 on a 2xx, 1 otherwise, 2 if the receiver cannot be reached."""
    from harness.credentials import redact_url
    from harness.engine.session import Session
    from harness.errors import TransportError, UsageError
    from harness.signing import VARIANTS, forge_delivery, sign_delivery
    from harness.transport import with_userinfo
    from harness.volume import VolumeGenerator

    config = run_config_from_args(args, "send")
    session = Session(config)
    provider, creds, network, url = session.provider, session.credentials, config.network, config.url
    if args.event:
        provider.event(args.event)
    if not args.variant:
        session.check_credentials()  # no silent unsigned send: missing credentials are one line, exit 2
    unsigned = next(VolumeGenerator(provider, seed=session.seed).deliveries(1, args.event))
    if args.variant:
        if args.variant not in VARIANTS:
            raise UsageError(f"Unknown variant {args.variant!r}. Known: {', '.join(VARIANTS)}.")
        forged = forge_delivery(provider, unsigned, creds, args.variant, url=url)
        if forged is None:
            raise UsageError(f"The variant {args.variant!r} does not apply to {provider.id} with these credentials.")
        delivery = forged
    else:
        delivery = sign_delivery(provider, unsigned, creds, url=url)
    redact = session.redactor
    for carried in _carried_credentials(delivery):
        redact.add(carried)  # an OAuth access token is a secret too, and a receiver may echo it back
    timeout = config.timeout or provider.timeout
    print(redact(f"> {delivery.method} {printable(redact_url(with_userinfo(url, delivery.url_userinfo)))}"))
    shown = network.with_headers(dict(delivery.headers))
    if delivery.url_userinfo:
        shown["Authorization"] = "Basic (from the URL's user-info)"
    for name, value in redact.headers(shown).items():  # secret-looking gateway headers were registered as secrets
        print(printable(f"> {name}: {value}", newlines=False))
    excerpt = delivery.body[:400].decode("utf-8", "replace")
    print(f">\n{printable(redact(excerpt))}{'…' if len(delivery.body) > 400 else ''}\n")
    with session:
        reply = session.transport().send(delivery, url, timeout=timeout)
    if reply.status == 0 and reply.error and any(word in reply.error for word in ("refused", "resolve", "TLS")):
        raise TransportError(f"Cannot reach the receiver at {redact_url(url)}: {reply.error}.")
    if reply.error and reply.status == 0:
        print(f"< no response: {reply.error} after {reply.elapsed:.2f}s")
        return 1
    print(f"< HTTP {reply.status} in {reply.elapsed * 1000:.0f} ms")
    for name, value in redact.peer_headers(reply.headers).items():  # Set-Cookie, echoed credentials: hidden
        print(printable(f"< {name}: {value}", newlines=False))
    body = reply.body[:600].decode("utf-8", "replace")
    print(f"<\n{printable(redact(body))}{'…' if len(reply.body) > 600 or reply.truncated else ''}")
    return 0 if reply.ok else 1
