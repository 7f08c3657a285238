"""Handshakes (Slack url_verification, OCI SubscriptionConfirmation) and the Teams reply format."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.checks._classes import ANYONE, PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.deliveries import build_delivery
from harness.errors import UsageError
from harness.signing import FOREIGN_HOST, certificate_server, forge_delivery
from harness.violations import ContractViolation


def _handshake_applies(ctx: CheckContext) -> str | None:
    kind = ctx.provider.handshake.kind if ctx.provider.handshake else None
    known = ("slack-url-verification", "oci-subscription-confirmation", "sns-subscription-confirmation")
    return None if kind in known else "no handshake to honour"


@check(
    "handshake",
    "The provider's handshake is honoured",
    120,
    _handshake_applies,
    category="protocol",
    bugs=("ignores-handshake", "confirms-unverified-subscription"),
    sends=PROVIDER_SENDS,
)
def handshake(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Slack: echo the challenge. OCI: GET the ConfirmationURL."""
    assert ctx.provider.handshake is not None
    if ctx.provider.handshake.kind == "slack-url-verification":
        return _slack(ctx)
    if ctx.provider.handshake.kind == "sns-subscription-confirmation":
        return _sns(ctx)
    return _oci(ctx)


def _slack(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    event = ctx.provider.handshake.event if ctx.provider.handshake else "url_verification"
    payload = ctx.generator.payload(event)
    delivery = ctx.sign(build_delivery(ctx.provider, payload, event_types=[event], rng=ctx.rng, label="handshake"))
    reply = ctx.send(delivery)
    challenge = payload["challenge"]
    echoed = reply.body.decode("utf-8", "replace").strip()
    try:
        parsed: Any = json.loads(echoed)
    except ValueError:
        parsed = None
    if reply.ok and (echoed == challenge or (isinstance(parsed, dict) and parsed.get("challenge") == challenge)):
        return [], []
    return [
        ctx.violation(
            "handshake",
            "url_verification's challenge was not echoed",
            f'a 2xx whose body is the challenge ({challenge}) or {{"challenge": "{challenge}"}}',
            delivery,
            reply,
            "Slack will not enable the Request URL until the challenge comes back",
        )
    ], []


class _Callback:
    """A one-shot HTTP server on loopback (or --callback-host) that records the confirmation GET."""

    def __init__(self, host: str) -> None:
        self.token = secrets.token_urlsafe(16)
        self.hit = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.token in self.path:
                    outer.hit.set()
                body = b"Subscription confirmed"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:  # only on the address given, never on all interfaces
            self.server = ThreadingHTTPServer(("127.0.0.1" if host == "localhost" else host, 0), Handler)
        except (OSError, OverflowError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(
                f"Cannot listen for OCI's confirmation on --callback-host {host}: {reason} "
                "(give an address of this machine)."
            ) from None
        self.url = f"http://{host}:{self.server.server_address[1]}/20181201/subscriptions/confirm?token={self.token}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Callback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _oci(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    event = ctx.provider.handshake.event if ctx.provider.handshake else "SubscriptionConfirmation"
    with _Callback(ctx.callback_host) as callback:
        payload = dict(ctx.generator.payload(event))
        payload["ConfirmationURL"] = callback.url
        unsigned = build_delivery(
            ctx.provider, payload, event_types=[event], rng=ctx.rng, confirmation_url=callback.url, label="handshake"
        )
        delivery = ctx.sign(unsigned)
        reply = ctx.send(delivery)
        confirmed = callback.hit.wait(timeout=min(ctx.timeout, 10.0))
    if reply.ok and confirmed:
        return [], []
    problem = "was not fetched" if not confirmed else "was fetched, but the message got no 2xx"
    return [
        ctx.violation(
            "handshake",
            f"The SubscriptionConfirmation's ConfirmationURL {problem}",
            "a GET of the ConfirmationURL (body key and X-OCI-NS-ConfirmationURL header) and a 2xx",
            delivery,
            reply,
            "until the URL is opened the subscription stays Pending and nothing is delivered"
            + ("" if ctx.callback_host != "127.0.0.1" else "; for a remote receiver pass --callback-host"),
        )
    ], []


def _sns(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """A signed SubscriptionConfirmation must be confirmed (its SubscribeURL visited); a forged one whose SubscribeURL
    is on a foreign host must not be."""
    event = ctx.provider.handshake.event if ctx.provider.handshake else "SubscriptionConfirmation"
    server = certificate_server()
    out = []
    sent = []
    for forged in (False, True):
        token = secrets.token_hex(32)
        host = FOREIGN_HOST if forged else "127.0.0.1"
        payload = dict(ctx.generator.payload(event))
        topic = str(payload.get("TopicArn", ""))
        payload["Token"] = token
        payload["SubscribeURL"] = server.url(f"/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}", host)
        unsigned = build_delivery(ctx.provider, payload, event_types=[event], rng=ctx.rng, label="handshake")
        if forged:
            delivery = forge_delivery(ctx.provider, unsigned, ctx.credentials, "foreign-cert-url", url=ctx.url)
            assert delivery is not None
            delivery = delivery.replace(label="forged SubscriptionConfirmation")
            reply = ctx.send(delivery, sender=ANYONE)
        else:
            delivery = ctx.sign(unsigned)
            reply = ctx.send(delivery)
        visited = _visited(ctx, server, token, wait=not forged)
        sent.append((delivery, reply, visited))
    (valid, valid_reply, confirmed), (forgery, forgery_reply, hijacked) = sent
    if not (valid_reply.ok and confirmed):
        problem = "was not visited" if not confirmed else "was visited, but the message got no 2xx"
        out.append(
            ctx.violation(
                "handshake",
                f"The SubscriptionConfirmation's SubscribeURL {problem}",
                "a GET of the SubscribeURL (after verifying the message and the URL's host) and a 2xx",
                valid,
                valid_reply,
                "until SubscribeURL is visited the subscription stays pending and SNS delivers nothing",
            )
        )
    if hijacked:
        out.append(
            ctx.violation(
                "handshake",
                "A forged SubscriptionConfirmation's SubscribeURL, on a foreign host, was visited",
                "no request to the SubscribeURL of a message that does not verify, or that is not on the provider's "
                "host",
                forgery,
                forgery_reply,
                "verify the message's signature first, and visit SubscribeURL only when it is https on "
                "sns.<region>.amazonaws.com: otherwise anyone can make the receiver confirm subscriptions to their "
                "topics or request any URL",
            )
        )
    return out, []


def _visited(ctx: CheckContext, server: Any, token: str, *, wait: bool) -> bool:
    """The SubscribeURL with this token was requested (waiting, bounded, for a receiver that confirms late)."""
    deadline = time.monotonic() + (min(ctx.timeout, 10.0) if wait else 0.0)
    while True:
        if server.fetched(token):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


@check(
    "reply-format",
    "The reply is a valid provider message",
    130,
    lambda ctx: None if ctx.provider.reply_validator is not None else "the provider reads no reply body",
    category="protocol",
    bugs=("bad-reply",),
    sends=PROVIDER_SENDS,
)
def reply_format(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Teams shows the reply in the thread: it must be a Bot Framework message."""
    validator = ctx.provider.reply_validator
    assert validator is not None
    delivery = ctx.signed()
    reply = ctx.send(delivery, "reply")
    try:
        parsed: Any = json.loads(reply.body)
    except ValueError:
        parsed = None
    errors = [e.message for e in validator.iter_errors(parsed)] if parsed is not None else ["the body is not JSON"]
    if reply.ok and not errors:
        return [], []
    return [
        ctx.violation(
            "reply-format",
            "The reply is not a valid message",
            '2xx with {"type": "message", "text": ...} (or attachments)',
            delivery,
            reply,
            "; ".join(errors[:3]) or "answer 2xx",
        )
    ], []
