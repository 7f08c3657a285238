"""`webhook-harness send PROVIDER URL`: one signed delivery, and the exchange printed with secrets redacted."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import (
    MAX_TIMEOUT,
    CommandInputs,
    add_shared_options,
    network_from_args,
    non_negative_int,
    positive_number,
)
from harness.core.models import Delivery
from harness.core.text import printable
from harness.credentials import Redactor, register_secret, url_secrets

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `send` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "send",
        help="send one signed delivery and show the exchange",
        description="Exit 0: the receiver answered 2xx; 1: it answered anything else, or not within the timeout; "
        "2: usage or configuration error, or the receiver is unreachable.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("url", metavar="URL")
    parser.add_argument("--event", metavar="TYPE", help="event type (default: a random one)")
    parser.add_argument("--variant", help="send a forgery instead: missing, wrong-key, tampered-body, ...")
    parser.add_argument("--seed", type=non_negative_int, default=None, help="payload seed")
    parser.add_argument(
        "--timeout",
        type=positive_number(MAX_TIMEOUT),
        default=None,
        help="seconds to wait (default: the provider's)",
    )
    add_shared_options(parser, network=True)
    parser.set_defaults(run=run)


def _carried_credentials(delivery: Delivery) -> list[str]:
    """The credential parts of the delivery's Authorization header (a fetched token, a Basic pair)."""
    value = delivery.header("Authorization") or ""
    scheme, _, credential = value.partition(" ")
    return [credential.strip()] if scheme.lower() in ("bearer", "basic") and credential.strip() else []


def run(args: argparse.Namespace) -> int:
    """Build, sign, send, print. Exit 0 on a 2xx, 1 otherwise, 2 if the receiver cannot be reached."""
    import random

    from harness.credentials import redact_url
    from harness.errors import TransportError, UsageError
    from harness.signing import VARIANTS, forge_delivery, sign_delivery
    from harness.signing.oauth import use_network
    from harness.transport import RequestsTransport, with_userinfo
    from harness.volume import VolumeGenerator

    inputs = CommandInputs(args)
    provider = inputs.provider(args.provider)
    creds = inputs.credentials
    network = network_from_args(args, inputs.config)
    use_network(network)
    for secret in url_secrets(args.url):
        register_secret(secret)
    if args.event:
        provider.event(args.event)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    unsigned = next(VolumeGenerator(provider, seed=seed).deliveries(1, args.event))
    if args.variant:
        if args.variant not in VARIANTS:
            raise UsageError(f"Unknown variant {args.variant!r}. Known: {', '.join(VARIANTS)}.")
        forged = forge_delivery(provider, unsigned, creds, args.variant, url=args.url)
        if forged is None:
            raise UsageError(f"The variant {args.variant!r} does not apply to {provider.id} with these credentials.")
        delivery = forged
    else:
        delivery = sign_delivery(provider, unsigned, creds, url=args.url)
    redact = Redactor(creds.secrets())
    for carried in _carried_credentials(delivery):
        redact.add(carried)  # an OAuth access token is a secret too, and a receiver may echo it back
    timeout = args.timeout or provider.timeout
    print(redact(f"> {delivery.method} {printable(redact_url(with_userinfo(args.url, delivery.url_userinfo)))}"))
    shown = network.with_headers(dict(delivery.headers))
    if delivery.url_userinfo:
        shown["Authorization"] = "Basic (from the URL's user-info)"
    for name, value in redact.headers(shown).items():  # secret-looking gateway headers were registered as secrets
        print(printable(f"> {name}: {value}", newlines=False))
    excerpt = delivery.body[:400].decode("utf-8", "replace")
    print(f">\n{printable(redact(excerpt))}{'…' if len(delivery.body) > 400 else ''}\n")
    reply = RequestsTransport(network=network).send(delivery, args.url, timeout=timeout)
    if reply.status == 0 and reply.error and any(word in reply.error for word in ("refused", "resolve", "TLS")):
        raise TransportError(f"Cannot reach the receiver at {redact_url(args.url)}: {reply.error}.")
    if reply.error and reply.status == 0:
        print(f"< no response: {reply.error} after {reply.elapsed:.2f}s")
        return 1
    print(f"< HTTP {reply.status} in {reply.elapsed * 1000:.0f} ms")
    for name, value in redact.peer_headers(reply.headers).items():  # Set-Cookie, echoed credentials: hidden
        print(printable(f"< {name}: {value}", newlines=False))
    body = reply.body[:600].decode("utf-8", "replace")
    print(f"<\n{printable(redact(body))}{'…' if len(reply.body) > 600 or reply.truncated else ''}")
    return 0 if reply.ok else 1
