"""The capture endpoint: answer as the provider expects, verify, relay when tapping, and append each delivery."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
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
from harness.core.text import printable
from harness.credentials import Credentials, Redactor
from harness.errors import ConfigError
from harness.recording._convert import FRAMING_HEADERS, event_types_of, parse_body
from harness.recording._format import Record, RecordWriter, rfc3339
from harness.recording._verify import make_verifier

__all__ = ["CaptureSummary", "Limits", "Recorder", "oci_hosts", "oci_or_loopback"]

log = logging.getLogger("harness.recording")
_PEERS = logging.getLogger("harness.recording.peers")  # aiohttp's per-request errors: a peer's malformed request
_PEERS.propagate = False  # is answered 400 by aiohttp; a traceback per request on stderr would be a flood
_PEERS.addHandler(logging.NullHandler())

MAX_REPLY = 1 << 20
REPLY_EXCERPT = 2000
MAX_EVENT_NAMES = 1000
MAX_PARSED = 4 << 20  # bodies larger than this are stored, not parsed for the summary line (JSON grows in memory)
MAX_REFUSALS_SHOWN = 20  # refusal lines printed; the rest are counted in the summary
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0
_SMALL_BODY = 256 << 10  # a body this small is read even when the in-flight budget is spent (real deliveries)
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade", "date", "server"}
)


@dataclass(frozen=True)
class Limits:
    """What one recorder lets the peers reaching it use: time per request, memory in flight, and disk."""

    read_deadline: float = 10.0  # seconds to receive one body once its headers arrived
    idle_timeout: float = 15.0  # an open connection that sends no complete request is closed after this long
    max_bodies: int = 64  # large bodies (over 256 KiB, or of unknown length) being received at once; more get 503
    max_small_bodies: int = 512  # small bodies being received at once (real deliveries are small): kept apart, so
    # stalled large uploads cannot lock a real delivery out
    max_in_flight: int = 64 << 20  # bytes of bodies held in memory at once; a large body over it is answered 503
    max_bytes: int = 1 << 30  # bytes written to the recording; then deliveries are answered 503, not stored
    max_records: int = 100_000  # records written; likewise


@dataclass
class _Hold:
    """What one request holds of the recorder's limits: a small or a large body slot, and bytes in flight."""

    small: bool | None = None
    size: int = 0


class _Refused(Exception):
    """A delivery answered without being stored: its status and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def oci_hosts(url: str) -> bool:
    """Confirmation URLs the recorder will GET by default: OCI's own documented host (https, *.oraclecloud.com)."""
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme == "https" and host.endswith(".oraclecloud.com")


def oci_or_loopback(url: str) -> bool:
    """With ``--allow-local-confirmation``: OCI's hosts or a loopback address (a local test double)."""
    from harness.receiver import loopback_only

    try:
        return oci_hosts(url) or loopback_only(url)
    except ValueError:
        return False


@dataclass
class CaptureSummary:
    """What a capture session stored."""

    recorded: int = 0
    verified: int = 0
    failed: int = 0
    unverified: int = 0
    refused: int = 0
    rejected: int = 0
    bytes_written: int = 0
    full: str = ""
    events: Counter[str] = field(default_factory=Counter)

    def render(self, path: str | Path) -> str:
        """One line for the end of a session."""
        top = ", ".join(f"{printable(name, newlines=False)} x{n}" for name, n in self.events.most_common(8))
        refused = f"; {self.refused} refused (too large, too slow or too many at once)" if self.refused else ""
        rejected = f"; {self.rejected} answered 401 (failed verification, not stored)" if self.rejected else ""
        full = f"; stopped storing: {self.full}" if self.full else ""
        return (
            f"Recorded {self.recorded} deliveries to {path} ({self.verified} verified, {self.failed} failed "
            f"verification, {self.unverified} not verified){rejected}{refused}{full}" + (f": {top}" if top else "")
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
        confirm_allowed: Callable[[str], bool] = oci_hosts,
        max_body: int | None = None,
        limits: Limits = Limits(),
        accept_unverified: bool = False,
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
        self.limits = limits
        self.accept_unverified = accept_unverified
        self._bodies = self._small_bodies = 0
        self._in_flight = 0
        self._shown_refusals = 0
        self._fd_warned = False
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
        self.summary.bytes_written = 0
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
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=1.0,
            keepalive_timeout=self.limits.idle_timeout,  # also closes a connection that never completes a request
            logger=_PEERS,
        )
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
            loop.set_exception_handler(self.on_loop_error)
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
        loop.set_exception_handler(self.on_loop_error)
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

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Out of file descriptors: one warning, not a traceback per refused accept (asyncio retries by itself)."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FDS:
            if not self._fd_warned:
                self._fd_warned = True
                self._say(
                    f"warning: out of file descriptors ({exc.strerror or exc}): new connections wait until some"
                    " close (raise `ulimit -n`); shown once"
                )
            return
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # a peer that went away: nothing to report
        loop.default_exception_handler(context)

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
    async def _read(self, request: web.Request, hold: _Hold) -> bytes:
        """The body, within the read deadline, the size cap and the in-flight budget (or ``_Refused``).

        The slot and the bytes stay charged to ``hold`` until the handler ends (a relay keeps the body meanwhile).
        """
        limits = self.limits
        declared = request.content_length
        if declared is not None and declared > self.max_body:
            raise _Refused(413, f"body over {self.max_body} bytes")
        small = declared is not None and declared <= _SMALL_BODY
        if small and self._small_bodies >= limits.max_small_bodies:
            raise _Refused(503, f"over {limits.max_small_bodies} small deliveries arriving at once")
        if not small and self._bodies >= limits.max_bodies:
            raise _Refused(503, f"over {limits.max_bodies} large deliveries arriving at once")
        if not small and declared is not None and self._in_flight + declared > limits.max_in_flight:
            raise _Refused(503, f"over {limits.max_in_flight} bytes of bodies arriving at once")
        hold.small = small
        if small:
            self._small_bodies += 1
        else:
            self._bodies += 1
        body = bytearray()
        try:
            async with asyncio.timeout(limits.read_deadline):
                async for chunk in request.content.iter_chunked(65536):
                    size = len(body) + len(chunk)
                    if size > self.max_body:
                        raise _Refused(413, f"body over {self.max_body} bytes")
                    if size > _SMALL_BODY and self._in_flight + len(chunk) > limits.max_in_flight:
                        raise _Refused(503, f"over {limits.max_in_flight} bytes of bodies arriving at once")
                    body += chunk
                    self._in_flight += len(chunk)
                    hold.size += len(chunk)
        except TimeoutError:
            raise _Refused(408, f"body not received within {limits.read_deadline:g}s") from None
        except (aiohttp.ClientError, ValueError, ConnectionError) as exc:
            raise _Refused(400, f"body not readable ({type(exc).__name__})") from None
        return bytes(body)

    def _release(self, hold: _Hold) -> None:
        if hold.small is True:
            self._small_bodies -= 1
        elif hold.small is False:
            self._bodies -= 1
        self._in_flight -= hold.size

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        hold = _Hold()
        try:
            return await self._deliver(request, hold)
        except _Refused as refused:
            self.summary.refused += 1
            self._refusal(f"refused {request.method} {request.path}: {refused.reason} -> {refused.status}")
            response = web.json_response({"error": refused.reason}, status=refused.status)
            response.force_close()  # the rest of an unread body is not waited for
            return response
        finally:
            self._release(hold)

    async def _deliver(self, request: web.Request, hold: _Hold) -> web.StreamResponse:
        body = await self._read(request, hold)
        headers = _joined(request.headers)
        now = self.clock()
        spec = self.provider.handshake
        if spec is not None and not spec.signed and _early(self.provider, request.method, request.query, headers):
            verified, reason = None, "an unsigned handshake"  # Graph, Dropbox, Asana sign nothing before it
        else:
            verified, reason = self._verify(headers, body, now, f"{request.scheme}://{request.host}{request.raw_path}")
        if verified is False and not self.accept_unverified:
            self.summary.rejected += 1
            self._refusal(f"{request.method} {request.path} FAILED verification ({reason}) -> 401, not stored")
            return web.json_response({"error": "unauthorized"}, status=401)
        self._room(body)
        payload = parse_body(body) if len(body) <= MAX_PARSED else None
        if self.forward:
            response, reply = await self._relay(request, headers, body)
        else:
            response, reply = await self._answer(headers, payload, request.method, request.query), None
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
        line = self._writer.line(record)
        size = len(line.encode("utf-8"))
        if self.summary.bytes_written + size > self.limits.max_bytes:
            self.summary.full = f"{self.limits.max_bytes} bytes (--max-bytes)"
            self._say(f"the recording reached {self.summary.full}: further deliveries are answered 503, not stored")
            if self.forward:  # relayed already: the receiver's answer stands, the record is not kept
                return response
            raise _Refused(503, "the recorder's storage bound is reached")
        try:
            self.summary.bytes_written += self._writer.write(line)
        except OSError as exc:  # disk full, file gone: refuse, so the provider retries later and nothing is lost
            if self.forward:  # relayed already: the receiver's answer stands (a 503 would make it a duplicate)
                self._say(f"could not store {request.method} {request.path}: {exc.strerror or exc}")
                return response
            self._say(f"could not store {request.method} {request.path}: {exc.strerror or exc}; answered 503")
            return web.json_response({"error": "the recorder could not store this delivery"}, status=503)
        try:
            self._count(headers, payload, verified, reason, record, response.status)
        except Exception as exc:  # the delivery is stored (and relayed): a summary line never turns it into a 5xx
            self._say(f"#{self.summary.recorded} stored; its summary line failed ({type(exc).__name__})")
        return response

    def _room(self, body: bytes) -> None:
        """Refuse (503, so the provider retries later) once the recording reached its byte or record bound."""
        limits, summary = self.limits, self.summary
        if summary.full:  # stopped: every later delivery too, so the file stays as it was at the bound
            raise _Refused(503, "the recorder's storage bound is reached")
        full = ""
        if summary.recorded >= limits.max_records:
            full = f"{limits.max_records} records (--max-records)"
        elif summary.bytes_written + len(body) > limits.max_bytes:
            full = f"{limits.max_bytes} bytes (--max-bytes)"
        if not full:
            return
        if not summary.full:
            summary.full = full
            self._say(
                f"the recording reached {full}: further deliveries are answered 503 and not stored; stop with"
                " Ctrl-C and start again with a higher bound or another --out"
            )
        raise _Refused(503, "the recorder's storage bound is reached")

    def _refusal(self, line: str) -> None:
        """Print the first refusals; count the rest (a flood of junk cannot flood the terminal)."""
        self._shown_refusals += 1
        if self._shown_refusals <= MAX_REFUSALS_SHOWN:
            self._say(line)
        if self._shown_refusals == MAX_REFUSALS_SHOWN:
            self._say("(further refusals are counted in the summary, not printed)")

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
        """One line for the terminal: secrets redacted, a peer's control characters and odd code points escaped."""
        if self.on_record is not None:
            self.on_record(printable(self.redact(line), newlines=False))

    async def _answer(
        self, headers: Mapping[str, str], payload: Any, method: str = "POST", query: Mapping[str, str] | None = None
    ) -> web.Response:
        from harness.deliveries import event_type_of
        from harness.receiver import (
            challenge_of,
            confirm_subscription,
            confirmation_url,
            handshake_answer,
            is_handshake,
        )

        provider = self.provider
        event_type = event_type_of(provider, headers, payload) if provider.body.shape == "single" else None
        query = query or {}
        if _early(provider, method, query, headers) or is_handshake(provider, headers, payload, event_type, query):
            spec = provider.handshake
            assert spec is not None
            if spec.echoes:
                status, answer_headers, body = handshake_answer(spec, challenge_of(spec, headers, query, payload) or "")
                return web.Response(status=status, headers=answer_headers, body=body)
            url = confirmation_url(headers, payload, spec)
            if url is None:
                return web.json_response({"status": "recorded; no ConfirmationURL"})
            if not self.confirm_allowed(url):
                self._say(
                    "not fetching a ConfirmationURL outside OCI's hosts (--allow-local-confirmation allows loopback)"
                )
            else:
                failure = await confirm_subscription(url, min(5.0, provider.timeout / 2))
                self._say(f"subscription confirmation failed: {failure}" if failure else "subscription confirmed")
            return web.json_response({"status": "recorded"})  # the same answer whatever the fetch did
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
                reply_body = await _read_up_to(answer.content, MAX_REPLY)
                status = answer.status
                reply_headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP]
        except (aiohttp.ClientError, TimeoutError, ValueError, UnicodeError) as exc:
            elapsed = time.perf_counter() - started
            error = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}"
            reply = {"status": 0, "error": error, "elapsed_ms": round(elapsed * 1000)}
            return web.json_response({"error": f"the receiver behind the tap failed: {error}"}, status=502), reply
        elapsed = time.perf_counter() - started
        excerpt = self.redact(reply_body[:REPLY_EXCERPT].decode("utf-8", "replace"))
        reply = {"status": status, "body": excerpt, "elapsed_ms": round(elapsed * 1000)}
        response = web.Response(status=status, body=reply_body)
        for name, value in reply_headers:  # the receiver's own headers, Content-Encoding and Content-Type included
            response.headers.add(name, value)
        return response, reply


def _early(provider: Provider, method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """A handshake told by its query or headers (Graph, Dropbox, Asana, Okta), before any body is read."""
    if provider.handshake is None:
        return False
    from harness.receiver import early_handshake

    return early_handshake(provider, method, query, headers)


async def _read_up_to(stream: aiohttp.StreamReader, cap: int) -> bytes:
    """The whole reply body, or its first ``cap`` bytes (``read(n)`` alone returns after the first chunk)."""
    body = bytearray()
    while len(body) < cap:
        chunk = await stream.read(cap - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _joined(headers: Any) -> dict[str, str]:
    """Request headers as one mapping, names as received; repeated headers joined with commas."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out
