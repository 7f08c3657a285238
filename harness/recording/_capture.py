"""The capture endpoint: answer as the provider expects, verify, relay when tapping, and append each delivery."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from harness.catalog import Provider
from harness.credentials import Credentials, Redactor
from harness.errors import ConfigError
from harness.recording._convert import FRAMING_HEADERS, event_types_of, parse_body
from harness.recording._format import Record, RecordWriter, rfc3339
from harness.recording._verify import make_verifier

__all__ = ["CaptureSummary", "Recorder", "oci_or_loopback"]

MAX_REPLY = 1 << 20
REPLY_EXCERPT = 2000
MAX_EVENT_NAMES = 1000
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0


def oci_or_loopback(url: str) -> bool:
    """Confirmation URLs the recorder will GET: OCI's own (https, *.oraclecloud.com) or a loopback address."""
    from harness.receiver import loopback_only

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return loopback_only(url) or (parts.scheme == "https" and host.endswith(".oraclecloud.com"))


@dataclass
class CaptureSummary:
    """What a capture session stored."""

    recorded: int = 0
    verified: int = 0
    failed: int = 0
    unverified: int = 0
    refused: int = 0
    events: Counter[str] = field(default_factory=Counter)

    def render(self, path: str | Path) -> str:
        """One line for the end of a session."""
        top = ", ".join(f"{name} x{n}" for name, n in self.events.most_common(8))
        refused = f"; {self.refused} refused (too large)" if self.refused else ""
        return (
            f"Recorded {self.recorded} deliveries to {path} ({self.verified} verified, {self.failed} failed "
            f"verification, {self.unverified} not verified){refused}" + (f": {top}" if top else "")
        )


class Recorder:
    """A capture endpoint for one provider on a local port; use as a context manager or ``run_until_signalled``."""

    def __init__(
        self,
        provider: Provider,
        out: str | Path,
        *,
        credentials: Credentials | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        forward: str | None = None,
        keep_auth: bool = False,
        clock: Callable[[], float] = time.time,
        on_record: Callable[[str], None] | None = None,
        confirm_allowed: Callable[[str], bool] = oci_or_loopback,
        max_body: int | None = None,
    ) -> None:
        self.provider = provider
        self.out = Path(out)
        self.credentials = credentials or Credentials()
        self.host, self._port = host, port
        self.forward = forward
        self.keep_auth = keep_auth
        self.clock = clock
        self.on_record = on_record
        self.confirm_allowed = confirm_allowed
        self.max_body = max_body or provider.body.max_bytes
        self.summary = CaptureSummary()
        self.redact = Redactor(self.credentials.secrets())
        self._verify = make_verifier(provider, self.credentials)
        self._writer: RecordWriter | None = None
        self._socket: socket.socket | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Where providers (or tests) send deliveries; any path is accepted."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/webhooks/{self.provider.id}"

    # -- lifecycle --------------------------------------------------------------------------------------------
    def bind(self) -> None:
        """Open the output file and the port; either failing is the user's error (exit 2)."""
        existed = self.out.exists()
        self._writer = RecordWriter(self.out, keep_auth=self.keep_auth)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            self._writer.close()
            if not existed:
                self.out.unlink(missing_ok=True)
            raise ConfigError(f"Cannot listen on {self.host}:{self._port}: {exc.strerror or exc}.") from None
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]

    async def _startup(self) -> None:
        assert self._socket is not None
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        if self.forward:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.provider.timeout), auto_decompress=False
            )
        await web.SockSite(runner, self._socket).start()

    async def _cleanup(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def serve(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then close the port and flush the file."""
        if self._socket is None:
            self.bind()
        try:
            await self._startup()
            self._ready.set()
            await stop.wait()
        finally:
            await self._cleanup()
            self.close()

    def run_until_signalled(self) -> CaptureSummary:
        """Serve in the foreground until SIGINT or SIGTERM; returns the summary (the file is flushed)."""

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await self.serve(stop)

        asyncio.run(main())
        return self.summary

    def start(self) -> Recorder:
        """Serve from a background thread; returns once the port accepts requests."""
        if self._thread is not None:
            raise RuntimeError("recorder already started")
        self.bind()
        self._thread = threading.Thread(target=self._thread_main, name=f"recorder-{self.provider.id}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._error is not None:
            self.stop()
            raise self._error or ConfigError("The recorder did not start in time.")
        return self

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        try:
            loop.run_until_complete(self.serve(self._stop))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop serving and flush the file; bounded and idempotent."""
        loop, thread, stop = self._loop, self._thread, self._stop
        if loop is not None and thread is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
            thread.join(_STOP_TIMEOUT)
        self._thread = self._loop = self._stop = None
        self.close()

    def close(self) -> None:
        """Close the port and the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- one delivery -----------------------------------------------------------------------------------------
    async def _read(self, request: web.Request) -> bytes | None:
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await self._read(request)
        if body is None:
            self.summary.refused += 1
            self._say(f"refused {request.method} {request.path}: body over {self.max_body} bytes")
            return web.json_response({"error": f"body over {self.max_body} bytes"}, status=413)
        headers = _joined(request.headers)
        now = self.clock()
        verified, reason = self._verify(headers, body, now, f"{request.scheme}://{request.host}{request.raw_path}")
        payload = parse_body(body)
        if self.forward:
            response, reply = await self._relay(request, headers, body)
        else:
            response, reply = await self._answer(headers, payload), None
        record = Record(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=headers,
            body=body,
            received_at=rfc3339(now),
            verified=verified,
            provider=self.provider.id,
            reply=reply,
        )
        assert self._writer is not None
        try:
            self._writer.write(record)
        except OSError as exc:  # disk full, file gone: refuse, so the provider retries later and nothing is lost
            self._say(f"could not store {request.method} {request.path}: {exc.strerror or exc}; answered 503")
            return web.json_response({"error": "the recorder could not store this delivery"}, status=503)
        self._count(headers, payload, verified, reason, record, response.status)
        return response

    def _count(
        self, headers: Mapping[str, str], payload: Any, verified: bool | None, reason: str, record: Record, status: int
    ) -> None:
        summary = self.summary
        summary.recorded += 1
        if verified is None:
            summary.unverified += 1
        elif verified:
            summary.verified += 1
        else:
            summary.failed += 1
        types = event_types_of(self.provider, dict(headers), payload) or ("(no event type)",)
        if len(summary.events) < MAX_EVENT_NAMES:  # a sender inventing event names cannot grow this without bound
            summary.events.update(types)
        else:
            summary.events.update(t if t in summary.events else "(other)" for t in types)
        from harness.deliveries import idempotency_keys_of

        keys = idempotency_keys_of(self.provider, headers, payload)
        shown = ", ".join(dict.fromkeys(types))
        key = f" key {keys[0]}" + (f" +{len(keys) - 1}" if len(keys) > 1 else "") if keys else ""
        verdict = {None: "not verified", True: "verified"}.get(verified, f"FAILED verification ({reason})")
        self._say(
            f"#{summary.recorded} {record.method} {record.path} {shown}{key} {record.size} B {verdict} -> {status}"
        )

    def _say(self, line: str) -> None:
        if self.on_record is not None:
            self.on_record(self.redact(line))

    async def _answer(self, headers: Mapping[str, str], payload: Any) -> web.Response:
        from harness.deliveries import event_type_of
        from harness.receiver import confirm_subscription, confirmation_url, is_handshake

        provider = self.provider
        event_type = event_type_of(provider, headers, payload) if provider.body.shape == "single" else None
        if is_handshake(provider, headers, payload, event_type):
            spec = provider.handshake
            assert spec is not None
            if spec.kind == "slack-url-verification":
                challenge = payload.get("challenge") if isinstance(payload, dict) else None
                return web.json_response({"challenge": challenge if isinstance(challenge, str) else ""})
            url = confirmation_url(headers, payload)
            if url is None:
                return web.json_response({"status": "recorded; no ConfirmationURL"})
            if not self.confirm_allowed(url):
                self._say("not fetching a ConfirmationURL outside OCI and loopback hosts")
                return web.json_response({"status": "recorded; confirmation skipped"})
            failure = await confirm_subscription(url, min(5.0, provider.timeout / 2))
            if failure:
                self._say(f"subscription confirmation failed: {failure}")
            return web.json_response({"status": "recorded; confirmation " + ("failed" if failure else "sent")})
        if provider.reply_schema is not None:
            return web.json_response({"type": "message", "text": "Recorded by webhook-harness."})
        return web.json_response({"status": "recorded"})

    async def _relay(
        self, request: web.Request, headers: Mapping[str, str], body: bytes
    ) -> tuple[web.Response, dict[str, Any]]:
        assert self.forward is not None and self._session is not None
        target = self.forward + (f"?{request.query_string}" if request.query_string else "")
        sent = {k: v for k, v in headers.items() if k.lower() not in FRAMING_HEADERS}
        present = {k.lower() for k in sent}
        automatic = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
        skip = [name for name in automatic if name.lower() not in present]
        started = time.perf_counter()
        try:
            async with self._session.request(
                request.method, target, data=body, headers=sent, allow_redirects=False, skip_auto_headers=skip
            ) as answer:
                reply_body = await answer.content.read(MAX_REPLY)
                status, content_type = answer.status, answer.headers.get("Content-Type")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            elapsed = time.perf_counter() - started
            error = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}"
            reply = {"status": 0, "error": error, "elapsed_ms": round(elapsed * 1000)}
            return web.json_response({"error": f"the receiver behind the tap failed: {error}"}, status=502), reply
        elapsed = time.perf_counter() - started
        excerpt = self.redact(reply_body[:REPLY_EXCERPT].decode("utf-8", "replace"))
        reply = {"status": status, "body": excerpt, "elapsed_ms": round(elapsed * 1000)}
        response = web.Response(status=status, body=reply_body)
        if content_type:
            response.headers["Content-Type"] = content_type
        return response, reply


def _joined(headers: Any) -> dict[str, str]:
    """Request headers as one mapping, names as received; repeated headers joined with commas."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out
