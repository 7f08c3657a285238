"""Handshakes as the profile describes them (echo a challenge, or confirm a URL) and the Teams reply format."""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from harness.catalog import HandshakeSpec
from harness.checks._classes import ANYONE, PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.core.models import Delivery, Reply
from harness.core.pointers import resolve_pointer, set_pointer
from harness.deliveries import build_delivery
from harness.errors import UsageError
from harness.signing import FOREIGN_HOST, certificates_of, forge_delivery
from harness.violations import ContractViolation


def _handshake_applies(ctx: CheckContext) -> str | None:
    return None if ctx.provider.handshake is not None else "no handshake to honour"


@check(
    "handshake",
    "The provider's handshake is honoured",
    120,
    _handshake_applies,
    category="protocol",
    bugs=(
        "ignores-handshake",
        "handshake-wrong-form",
        "handshake-wrong-content-type",
        "slow-handshake",
        "refuses-with-403",
        "confirms-unverified-subscription",
    ),
    sends=PROVIDER_SENDS,
)
def handshake(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Answer the handshake the profile describes: echo its challenge in time, GET the URL (OCI), or PONG (Discord)."""
    spec = ctx.provider.handshake
    assert spec is not None
    if spec.kind == "sns-subscription-confirmation":
        return _sns(ctx)
    if spec.kind == "confirm-url":
        return _confirm(ctx, spec)
    if spec.kind == "discord-ping":
        return _discord(ctx)
    return _echo(ctx, spec)


def _discord(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    event = (ctx.provider.handshake.event if ctx.provider.handshake else None) or "1"
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


def _deadline(ctx: CheckContext, spec: HandshakeSpec) -> float:
    """The handshake's own timeout (the profile's handshake.timeout), else the provider's."""
    return spec.timeout if spec.timeout is not None else ctx.provider.timeout


def _challenge(ctx: CheckContext, spec: HandshakeSpec) -> str:
    if spec.challenge_secret and ctx.credentials.secret:
        return ctx.credentials.secret
    alphabet = string.ascii_letters + string.digits + "-_"
    token = "".join(ctx.rng.choice(alphabet) for _ in range(32))
    # A query challenge travels URL-encoded: a space and a colon catch an echo of the encoded text (Graph's tokens
    # read "Validation: Testing client application reachability ...").
    return f"Validation: {token[:16]} {token[16:]}" if spec.challenge_in == "query" else token


def _request(ctx: CheckContext, spec: HandshakeSpec) -> tuple[Delivery, str, str]:
    """The handshake request as the provider sends it, the URL it goes to and the challenge it carries."""
    url, challenge = ctx.url, _challenge(ctx, spec)
    if spec.challenge_in == "query":
        url += ("&" if "?" in url else "?") + urlencode({spec.challenge_name: challenge})
    if spec.event is not None and spec.challenge_in == "body":
        payload = copy.deepcopy(ctx.generator.payload(spec.event))
        found = resolve_pointer(payload, spec.challenge_name)
        if isinstance(found, str) and found:
            challenge = found  # the value the event schema shapes (Slack's is alphanumeric)
        else:
            set_pointer(payload, spec.challenge_name, challenge)
        unsigned = build_delivery(ctx.provider, payload, event_types=[spec.event], rng=ctx.rng, label="handshake")
    else:
        headers = {} if spec.method == "GET" else {"Content-Type": "text/plain; charset=utf-8"}
        if spec.challenge_in == "header":
            headers[spec.challenge_name] = challenge
        if spec.match_in == "header" and spec.match_value is not None:
            headers[spec.match_name] = spec.match_value
        unsigned = Delivery(
            provider=ctx.provider.id,
            method=spec.method or ctx.provider.method,
            headers=headers,
            body=b"",
            event_types=(),
            idempotency_keys=(),
            label="handshake",
        )
    return (ctx.sign(unsigned) if spec.signed else unsigned), url, challenge


def _problems(spec: HandshakeSpec, challenge: str, reply: Reply, deadline: float) -> list[str]:
    """What is wrong with the answer, in words; empty when it is what the provider wants."""
    if reply.status == 0:
        return [f"no answer ({reply.error or 'connection failed'})"]
    out = []
    if spec.reply_status and reply.status not in spec.reply_status:
        out.append(f"status {reply.status}, not {' or '.join(map(str, spec.reply_status))}")
    elif not reply.ok:
        out.append(f"status {reply.status}, not a 2xx")
    if spec.reply_echo_header and reply.header(spec.reply_echo_header) != challenge:
        out.append(f"the {spec.reply_echo_header} response header does not carry the challenge")
    if spec.reply_body:
        whole = reply.body.decode("utf-8", "replace")
        text = whole.strip()
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = None
        # the challenge exactly, or with a framework's trailing newline: a challenge may itself end in a space
        raw = "raw" in spec.reply_body and (whole == challenge or text == challenge.strip())
        wrapped = "json" in spec.reply_body and isinstance(parsed, dict) and parsed.get(spec.reply_key) == challenge
        if not (raw or wrapped):
            out.append("the body is not " + " or ".join(_form(spec, f) for f in spec.reply_body))
    media = (reply.header("Content-Type") or "").split(";")[0].strip().lower()
    if spec.reply_content_type and media != spec.reply_content_type.lower():
        out.append(f"Content-Type {media or '(none)'}, not {spec.reply_content_type}")
    for name, value in spec.reply_headers:
        if (reply.header(name) or "").strip().lower() != value.lower():
            out.append(f"no {name}: {value}")
    if reply.elapsed > deadline:
        out.append(f"answered after {reply.elapsed:.2f} s, over the {deadline:g} s the provider waits")
    return out


def _form(spec: HandshakeSpec, form: str) -> str:
    return "the raw challenge" if form == "raw" else f'{{"{spec.reply_key}": <challenge>}}'


def _expected(spec: HandshakeSpec, deadline: float) -> str:
    status = " or ".join(map(str, spec.reply_status)) if spec.reply_status else "a 2xx"
    parts = [status]
    if spec.reply_body:
        parts.append("whose body is " + " or ".join(_form(spec, f) for f in spec.reply_body))
    if spec.reply_echo_header:
        parts.append(f"with the challenge in the {spec.reply_echo_header} response header")
    if spec.reply_content_type:
        parts.append(f"Content-Type {spec.reply_content_type}")
    parts += [f"{name}: {value}" for name, value in spec.reply_headers]
    return ", ".join(parts) + f", within {deadline:g} s"


def _echo(ctx: CheckContext, spec: HandshakeSpec) -> tuple[list[ContractViolation], list[str]]:
    delivery, url, challenge = _request(ctx, spec)
    deadline = _deadline(ctx, spec)
    reply = ctx.send(delivery, "handshake", timeout=max(ctx.http_timeout, 2 * deadline), url=url)
    problems = _problems(spec, challenge, reply, deadline)
    if not problems:
        return [], []
    where = {"query": "query parameter", "header": "header", "body": "body field"}[spec.challenge_in]
    return [
        ctx.violation(
            "handshake",
            f"The {spec.kind} handshake was not answered as {ctx.provider.id} requires: " + "; ".join(problems),
            _expected(spec, deadline),
            delivery,
            reply,
            f"answer the request that carries the {where} {spec.challenge_name} with the challenge itself, before "
            "any other work; until then the provider does not deliver",
            url=url,
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


def _confirm(ctx: CheckContext, spec: HandshakeSpec) -> tuple[list[ContractViolation], list[str]]:
    event = spec.event or "SubscriptionConfirmation"
    with _Callback(ctx.callback_host) as callback:
        payload = copy.deepcopy(ctx.generator.payload(event))
        if spec.url_pointer:
            set_pointer(payload, spec.url_pointer, callback.url)
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
    server = certificates_of(ctx.credentials)
    out = []
    sent = []
    event = event or "SubscriptionConfirmation"
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
