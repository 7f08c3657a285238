"""The receiver's aiohttp application: the webhook endpoint, the count probe and the OAuth token endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from harness.catalog import HandshakeSpec, Provider
from harness.receiver._bugs import Behaviour, rejected_event
from harness.receiver._handshake import (
    challenge_of,
    confirm_subscription,
    confirmation_url,
    early_handshake,
    handshake_answer,
    harness_callback,
    is_handshake,
    loopback_only,
    subscribe_url,
)
from harness.receiver._oauth import TokenIssuer, token_path
from harness.receiver._parse import Event, Rejected, event_items, media_type_ok, parse_body, read_event, unknown_field
from harness.receiver._schemas import FastSchemas, shared_schemas
from harness.receiver._state import ObjectStates
from harness.receiver._store import DuplicateKey, EventStore, StoredEvent
from harness.signing import Verifier

__all__ = ["RACE_GAP", "ReceiverApp", "WEBHOOK_PATH"]

log = logging.getLogger("harness.receiver")
WEBHOOK_PATH = "/webhooks/{provider}"
RACE_GAP = 0.1  # racy-dedupe: the await between "is it stored?" and the INSERT


@dataclass
class ReceiverApp:
    """Handlers for one provider, with the behaviour switches of the chosen bug (if any)."""

    provider: Provider
    schemes: list[Verifier]
    store: EventStore
    behaviour: Behaviour
    clock: Callable[[], float]
    delay: float
    issuer: TokenIssuer | None = None
    confirm_allowed: Callable[[str], bool] = harness_callback
    public_url: str | None = None  # the URL providers post to, as registered with them (behind a proxy)
    states: ObjectStates | None = None
    _memo: set[tuple[Any, ...]] = field(default_factory=set)
    _accepted: int = 0  # authenticated, well-formed deliveries handled so far (slow-one-in-ten counts them)
    _queued: set[asyncio.Task[None]] = field(default_factory=set)
    _schemas: FastSchemas | None = None
    _cuts: tuple[list[tuple[str, str, str]], frozenset[str]] | None = None

    def __post_init__(self) -> None:
        self._schemas = shared_schemas(self.provider)
        self._cuts = self._signature_cuts()

    def _signature_cuts(self) -> tuple[list[tuple[str, str, str]], frozenset[str]] | None:
        """What the all-signatures bug changes in the headers: the multi-signature headers it cuts to their first entry
        (header, separator, each entry's prefix) and the secondary headers it never reads; ``None``: nothing."""
        lists = [s.signature_list for s in self.schemes if s.signature_list is not None]
        alternatives: set[str] = set()
        for spec in self.provider.auth.hmac.values():
            if spec.either:
                alternatives.update(extra.header.lower() for extra in spec.also)
            if spec.separator is None:
                continue
            item = next(i for i in spec.format.split(spec.separator) if "{signature}" in i)
            lists.append((spec.header, spec.separator, item.split("{", 1)[0]))  # "v1=" in "t=..,v1={signature}"
        return (lists, frozenset(alternatives)) if lists or alternatives else None

    @property
    def schemas(self) -> FastSchemas | None:
        """The compiled event schemas the strict check uses (shared by every receiver of the profile)."""
        return self._schemas

    @property
    def _json_body(self) -> bool:
        """The body is the JSON value itself (not a form, nor a form field carrying JSON)."""
        return self.provider.body.format != "form" and self.provider.body.form_field is None

    @property
    def _signs_url(self) -> bool:
        return any(scheme.check_url is not None for scheme in self.schemes)

    @property
    def path(self) -> str:
        """The webhook endpoint's path."""
        return WEBHOOK_PATH.format(provider=self.provider.id)

    def build(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=self.provider.body.max_bytes, middlewares=[_errors])
        app.router.add_route("*", self.path, self.webhook)
        app.router.add_get("/probe/{event_id:.+}", self.probe)
        app.router.add_get("/state/{object_id:.+}", self.state)
        if self.issuer is not None:
            app.router.add_post(token_path(), self.issuer.handle)
        return app

    async def probe(self, request: web.Request) -> web.Response:
        """``{"count": n}``: how many rows carry the idempotency key."""
        return web.json_response({"count": await self.store.count_async(request.match_info["event_id"])})

    async def state(self, request: web.Request) -> web.Response:
        """The receiver's view of one lifecycle object: its state fields, or 404 when unknown or deleted."""
        view = self.states.view(request.match_info["object_id"]) if self.states is not None else None
        return web.json_response(view) if view is not None else _json(404, {"error": "no such object"})

    async def _apply_states(self, events: list[Event]) -> None:
        if self.states is not None:
            for event in events:
                await self.states.apply(event.event_type, event.value)

    def target_url(self, request: web.Request) -> str:
        """The URL a request was sent to: ``public_url``, else as its request line and Host header give it."""
        path = request.raw_path if self.behaviour.url_query else request.raw_path.partition("?")[0]
        return self.public_url or f"{request.scheme}://{request.host}{path}"

    def authenticate(self, headers: Mapping[str, str], body: bytes, url: str = "") -> str | None:
        """Why the request fails authentication, or ``None``; every configured scheme must pass."""
        mode = self.behaviour.auth
        if self.behaviour.int_timestamp_first:
            for scheme in self.schemes:
                text = scheme.timestamp_text(scheme.view(headers, body))
                if text is not None:
                    scheme.parse_stamp(text)  # the bug: int() (or fromisoformat) raises on a malformed one, unverified
        if mode == "none":
            return None
        given = headers
        for scheme in self.schemes:
            headers = scheme.view(given, body)  # a scheme whose credentials travel in the body reads them there
            if mode == "optional" and not scheme.present(headers, body):
                continue
            if mode == "presence":
                if not scheme.present(headers, body):
                    return f"{scheme.name}: no credentials"
            else:
                memo = (scheme.name, tuple(headers.get(h) for h in scheme.headers), body[:32])
                if not (mode == "memo" and scheme.signs_body and memo in self._memo):
                    reason = scheme.reason(headers, body, url)
                    if reason:
                        return f"{scheme.name}: {reason}"
                    if mode == "memo" and scheme.signs_body:
                        self._memo.add(memo)
            if self.behaviour.timestamps:
                stale = scheme.stale(headers, self.clock(), self.provider.auth.tolerance)
                if stale:
                    return f"{scheme.name}: {stale}"
        return None

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """Authenticate, parse, validate, deduplicate and store; answer within the provider's timeout."""
        if self.behaviour.always_500:
            return _json(500, {"error": "internal server error"})
        if early_handshake(self.provider, request.method, request.query, request.headers):
            return await self._early_handshake(request)
        if request.method != self.provider.method:
            return _json(405, {"error": f"use {self.provider.method}"})
        cap = self.provider.body.max_bytes
        if request.content_length is not None and request.content_length > cap:
            return _json(413, {"error": f"body over {cap} bytes"})
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _json(413, {"error": f"body over {cap} bytes"})
        if self.behaviour.confirm_first:  # the bug: SNS's SubscribeURL visited before anything is verified
            url = subscribe_url(_loose_json(body))
            if url is not None and loopback_only(url):  # even a deliberately buggy receiver stays on loopback
                await confirm_subscription(url, min(5.0, self.provider.timeout / 2))
        if self.behaviour.parse_first:
            self.provider.decode(body)  # the bug: parsed before the signature is verified, with no error handling
        url = self.target_url(request) if self._signs_url else ""
        reason = self.authenticate(self._signature_headers(request.headers), self._signed_bytes(body), url)
        if reason:
            log.info("401 %s", reason)
            response = _json(self.behaviour.refusal, {"error": "unauthorized"})
            if any(s.name in ("basic",) for s in self.schemes):
                response.headers["WWW-Authenticate"] = 'Basic realm="webhook"'
            return response
        try:
            return await self._accept(request, body)
        except Rejected as exc:
            log.info("%s %s", exc.status, exc.reason)
            return _json(exc.status, {"error": exc.reason})

    def _signed_bytes(self, body: bytes) -> bytes:
        """The bytes the signature is checked over: the raw body, or (the bug) the body re-serialised."""
        if self.behaviour.raw_body:
            return body
        if self.provider.body.format == "form":  # the parameters read as Latin-1, then encoded again as UTF-8
            try:
                pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="latin-1")
            except ValueError:
                return body
            return urlencode(pairs).encode("ascii")
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return body  # the framework's JSON parser fails first: the handler falls back to the raw bytes
        return self.provider.encode(value, ascii_only=True)  # the provider's layout, json.dumps' default escaping

    def _signature_headers(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """The headers as verified: all of them, or (the bug) a multi-signature header cut to its first entry."""
        if self.behaviour.all_signatures or not self._cuts:
            return headers  # nothing the bug would cut: the request's own (case-insensitive) headers, uncopied
        out = dict(headers)
        lists, alternatives = self._cuts
        if alternatives:  # Box: only the primary header is compared, the secondary never read
            out = {k: v for k, v in out.items() if k.lower() not in alternatives}
        for header, separator, prefix in lists:
            for name, value in headers.items():
                if name.lower() == header.lower():
                    items = value.split(separator)
                    signatures = [i for i in items if i.strip().startswith(prefix)]
                    out[name] = separator.join([i for i in items if i not in signatures] + signatures[:1])
        return out

    async def _accept(self, request: web.Request, body: bytes) -> web.StreamResponse:
        if not media_type_ok(self.provider, request.headers.get("Content-Type")):
            raise Rejected(415, f"Content-Type must be {self.provider.content_type}")
        if self.behaviour.bad_json == "crash":
            payload = self.provider.decode(body)  # the bug: no error handling around the parse
        else:
            payload = parse_body(self.provider, body)
        headers = request.headers
        first = read_event(self.provider, headers, payload if self.provider.body.shape == "single" else None)
        if is_handshake(self.provider, headers, payload, first.event_type, request.query):
            return await self._handshake(headers, payload)
        events = self._events(headers, payload, first)
        raw = _raw_text(body) if self._json_body and len(events) == 1 and events[0].value is payload else None
        if self.behaviour.queue_delay > 0:
            task = asyncio.get_running_loop().create_task(self._store_later(events, raw))
            self._queued.add(task)
            task.add_done_callback(self._queued.discard)
            return self._reply(0, 0, events)
        stored, duplicates = await self._store(events, raw)
        await self._apply_states(events)
        self._accepted += 1
        every = self.behaviour.slow_every
        if self.behaviour.slow or (every and self._accepted % every == 0):
            await asyncio.sleep(self.delay)
        return self._reply(stored, duplicates, events)

    async def _store_later(self, events: list[Event], raw: str | None) -> None:
        """Queue-first: a worker stores the events a moment after the 2xx went out."""
        await asyncio.sleep(self.behaviour.queue_delay)
        try:
            await self._store(events, raw)
            await self._apply_states(events)
        except Exception as exc:  # a worker's failure is logged, never an unhandled task error
            log.warning("queued store failed: %s: %s", type(exc).__name__, exc)

    def _events(self, headers: Mapping[str, str], payload: Any, first: Event | None = None) -> list[Event]:
        strict, check_schema = self.behaviour.strict_fields, self.behaviour.schema
        refused = rejected_event(self.provider) if self.behaviour.reject_event else None
        unhandled = rejected_event(self.provider) if self.behaviour.subscribed_only else None
        out = []
        items = event_items(self.provider, payload)
        if not self.behaviour.all_events:
            items = items[:1]  # the bug: body[0] only
        for item in items:
            if not isinstance(item, dict):
                if check_schema or self.provider.body.shape == "single":  # the top-level type is never optional
                    raise Rejected(400, "an event must be a JSON object")
                continue
            event = first if first is not None and first.value is item else read_event(self.provider, headers, item)
            if event.event_type is None:
                if check_schema:
                    raise Rejected(400, f"no event type at {self.provider.event_type.describe()}")
                continue
            if self.behaviour.subscribed_only and (not event.known or event.event_type == unhandled):
                raise Rejected(404, f"no handler for event type {event.event_type!r}")
            if event.known:
                if event.event_type == refused:
                    raise Rejected(400, f"unsupported event type {event.event_type!r}")
                if check_schema:
                    assert self._schemas is not None
                    error = self._schemas.first_error(event.event_type, item)
                    if error:
                        raise Rejected(400, f"{event.event_type}: {error}")
                if strict:
                    extra = unknown_field(self.provider, event.event_type)(item)
                    if extra:
                        raise Rejected(400, f"unknown field {extra}")
            elif strict:
                raise Rejected(400, f"unknown event type {event.event_type!r}")
            if self.behaviour.refuse_nul and "\\u0000" in json.dumps(item):
                raise Rejected(400, 'invalid byte sequence for encoding "UTF8": 0x00 (the whole delivery refused)')
            if event.key is None:
                if check_schema:
                    raise Rejected(400, f"no usable idempotency key at {self.provider.idempotency_key.describe()}")
                continue
            out.append(event)
        return out

    async def _store(self, events: list[Event], raw: str | None = None) -> tuple[int, int]:
        """Store the events; ``raw``: the body's own JSON text when it is the one event (no re-serialising)."""
        rows = [StoredEvent(e.key or "", _text(e.event_type or ""), raw or json.dumps(e.value)) for e in events]
        mode = self.behaviour.dedupe
        if mode == "unique":
            new = await self.store.insert_new(rows)
            return new, len(rows) - new
        if mode == "racy":
            seen = await self.store.existing([r.key for r in rows])
            fresh = [r for r in rows if r.key not in seen]
            if fresh:  # the await between "is it stored?" and the INSERT, when there is something to insert
                await asyncio.sleep(RACE_GAP)
            await self.store.insert_all(fresh)
            return len(fresh), len(rows) - len(fresh)
        if mode == "reject":
            try:
                await self.store.insert_all(rows)
            except DuplicateKey:
                raise Rejected(409, "duplicate event") from None
            return len(rows), 0
        await self.store.insert_all(rows)  # "none" stores again; "crash" lets DuplicateKey escape: 500
        return len(rows), 0

    def _reply(self, stored: int, duplicates: int, events: list[Event]) -> web.Response:
        if self.provider.reply_schema is not None:
            text = f"Received {len(events)} event(s): {stored} new, {duplicates} already seen."
            if self.behaviour.reply == "bad":
                return web.json_response({"text": text})
            return web.json_response({"type": "message", "text": text})
        # what json_response writes for {"status": "ok", "stored": .., "duplicates": ..}, without its json.dumps
        text = f'{{"status": "ok", "stored": {stored}, "duplicates": {duplicates}}}'
        return web.Response(text=text, content_type="application/json")

    async def _handshake(self, headers: Mapping[str, str], payload: Any) -> web.Response:
        spec = self.provider.handshake
        assert spec is not None
        if self.behaviour.schema and spec.event is not None:
            errors = self.provider.schema_errors(spec.event, payload) if spec.event in self.provider.events else []
            if errors:
                raise Rejected(400, f"{spec.event}: {errors[0]}")
        if not self.behaviour.handshake:
            return web.json_response({"status": "ok"})
        if spec.kind == "sns-subscription-confirmation":
            return await self._confirm_sns(payload)
        if spec.kind == "discord-ping":
            return web.json_response({"type": 1})  # PONG
        if spec.echoes:
            return await self._echo(spec, challenge_of(spec, headers, {}, payload))
        url = confirmation_url(headers, payload, spec)
        if url is None:
            raise Rejected(400, f"{spec.event} without a confirmation URL")
        # One answer whatever happened, so the reply tells the sender nothing about the URL it named.
        refused = "not fetching a ConfirmationURL that is not the harness's loopback callback"
        return await self._visit(url, self.confirm_allowed(url), refused)

    async def _early_handshake(self, request: web.Request) -> web.Response:
        """A handshake told by its query or headers (Graph, Dropbox, Asana, Okta): authenticated where signed."""
        spec = self.provider.handshake
        assert spec is not None
        if spec.signed:
            body = await request.read()
            reason = self.authenticate(request.headers, body, self.target_url(request) if self._signs_url else "")
            if reason:
                log.info("401 handshake: %s", reason)
                return _json(401, {"error": "unauthorized"})
        if not self.behaviour.handshake:
            return web.json_response({"status": "ok"})
        try:
            return await self._echo(spec, challenge_of(spec, request.headers, request.query, None))
        except Rejected as exc:
            return _json(exc.status, {"error": exc.reason})

    async def _echo(self, spec: HandshakeSpec, challenge: str | None) -> web.Response:
        """Answer a handshake with its challenge, as the description says (or as the chosen bug gets it wrong)."""
        if not challenge:
            raise Rejected(400, f"handshake without its challenge ({spec.challenge_in} {spec.challenge_name})")
        if self.behaviour.handshake_delay:
            await asyncio.sleep(self.delay)
        status, headers, body = handshake_answer(spec, challenge, self.behaviour.handshake_reply)
        return web.Response(status=status, headers=headers, body=body)

    async def _confirm_sns(self, payload: Any) -> web.Response:
        """GET the verified message's SubscribeURL, only on the provider's hosts (as for its SigningCertURL)."""
        url = subscribe_url(payload)
        if url is None:
            raise Rejected(400, "SubscriptionConfirmation without a SubscribeURL")
        spec = self.provider.auth.certificate
        trusted = spec is not None and spec.trusted(url)
        return await self._visit(url, trusted, "not visiting a SubscribeURL that is not on the provider's host")

    async def _visit(self, url: str, allowed: bool, refused: str) -> web.Response:
        """Confirm a subscription by fetching ``url`` when ``allowed`` (else log ``refused``); the same answer either
        way, so the reply tells the sender nothing about the URL it named."""
        if not allowed:
            log.warning(refused)
        else:
            failure = await confirm_subscription(url, min(5.0, self.provider.timeout / 2))
            if failure:
                log.warning("subscription confirmation failed: %s", failure)
        return web.json_response({"status": "confirmation handled"})


def _loose_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _raw_text(body: bytes) -> str | None:
    """The body as text when it is the JSON value itself (not a form field carrying it); parse_json checked UTF-8."""
    return body.decode("utf-8") if body.lstrip()[:1] in (b"{", b"[") else None


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:500]


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        log.warning("500 unhandled %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return _json(500, {"error": "internal server error"})
