"""Handshakes (Slack url_verification, OCI SubscriptionConfirmation, Discord PING) and the Teams reply format."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.deliveries import build_delivery
from harness.errors import UsageError
from harness.signing import forge_delivery
from harness.violations import ContractViolation


def _handshake_applies(ctx: CheckContext) -> str | None:
    kind = ctx.provider.handshake.kind if ctx.provider.handshake else None
    known = ("slack-url-verification", "oci-subscription-confirmation", "discord-ping")
    return None if kind in known else "no handshake to honour"


@check(
    "handshake",
    "The provider's handshake is honoured",
    120,
    _handshake_applies,
    category="protocol",
    bugs=("ignores-handshake", "refuses-with-403"),
    sends=PROVIDER_SENDS,
)
def handshake(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Slack: echo the challenge. OCI: GET the ConfirmationURL. Discord: answer the PING with a PONG."""
    assert ctx.provider.handshake is not None
    if ctx.provider.handshake.kind == "slack-url-verification":
        return _slack(ctx)
    if ctx.provider.handshake.kind == "discord-ping":
        return _discord(ctx)
    return _oci(ctx)


def _discord(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    event = ctx.provider.handshake.event if ctx.provider.handshake else "1"
    payload = ctx.generator.payload(event)
    delivery = ctx.sign(build_delivery(ctx.provider, payload, event_types=[event], rng=ctx.rng, label="handshake"))
    reply = ctx.send(delivery)
    try:
        parsed: Any = json.loads(reply.body)
    except ValueError:
        parsed = None
    out = []
    if not (reply.ok and isinstance(parsed, dict) and parsed.get("type") == 1 and parsed.get("type") is not True):
        out.append(
            ctx.violation(
                "handshake",
                "The PING interaction (type 1) was not answered with a PONG",
                'a 2xx whose JSON body is {"type": 1}',
                delivery,
                reply,
                "Discord will not save the Interactions Endpoint URL until a signed PING gets "
                '{"type": 1} back: verify the signature, then answer type 1 before any other handling',
            )
        )
    # Discord also sends PINGs with invalid signatures on purpose and expects exactly 401. Accepting one is
    # rejects-bad-auth's finding; here only the status of a refusal is judged.
    unsigned = build_delivery(ctx.provider, payload, event_types=[event], rng=ctx.rng, label="handshake")
    forged = forge_delivery(ctx.provider, unsigned, ctx.credentials, "wrong-key", url=ctx.url)
    if forged is not None:
        forged = forged.replace(label="PING with an invalid signature")
        refused = ctx.send(forged)
        notes = [] if refused.status == 401 else [f"the PING with an invalid signature got {refused.describe()}"]
        if 400 <= refused.status < 500 and refused.status != 401:
            out.append(
                ctx.violation(
                    "handshake",
                    f"A PING with an invalid signature was refused with {refused.status}, not 401",
                    "401: Discord's security checks send invalid signatures and expect exactly 401",
                    forged,
                    refused,
                    "answer 401 when the signature does not verify; with any other status Discord refuses to "
                    "save the endpoint URL, and removes it later when its routine checks fail",
                )
            )
        return out, notes
    return out, []


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
