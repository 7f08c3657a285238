"""Deliveries straight into a WSGI app, an ASGI app or a plain callable: no server, same checks.

WSGI apps run through werkzeug's test client and ASGI apps through httpx's ``ASGITransport``, with the ASGI lifespan
run once on a dedicated event loop, as a server runs it. Every call has a real deadline: a handler still running at
the timeout gives a timed-out ``Reply`` while it is left to finish (a hung ASGI handler is cancelled).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from harness.core.models import Delivery, Reply

__all__ = ["Handler", "InProcessTransport", "route_requests"]

Headers = list[tuple[str, str]]
Handler = Callable[
    [str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str] | Iterable[tuple[str, str]], bytes]
]
"""A plain callable receiver: ``(method, path_with_query, headers, body) -> (status, headers, body)``.

The returned headers are a mapping or a list of ``(name, value)`` pairs (a name may repeat)."""

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[MutableMapping[str, Any]]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
WSGIApp = Callable[..., Iterable[bytes]]
_Answer = tuple[int, Headers, bytes]
_Call = Callable[[str, str, str, Headers, bytes, float], _Answer]  # method, host, path, headers, body, timeout

_MAX_HUNG = 8  # handler threads still running past their deadline before the transport refuses to start more
_LIFESPAN_TIMEOUT = 10.0


class _TimedOut(Exception):
    """The app did not answer within the deadline."""


class _Refused(Exception):
    """The transport would not start the app (too many hung handlers, a failed lifespan startup)."""


class InProcessTransport:
    """A ``harness.transport.Transport`` that calls the receiver in this process instead of over HTTP."""

    def __init__(self, handler: Handler, *, max_body: int = 1 << 20) -> None:
        runner = _Threaded(_callable_call(handler))
        self._call: _Call = runner
        self._closer: Callable[[], None] = runner.close
        self.max_body = max_body

    @classmethod
    def _over(cls, call: _Call, closer: Callable[[], None], max_body: int) -> InProcessTransport:
        transport = cls.__new__(cls)
        transport._call, transport._closer, transport.max_body = call, closer, max_body
        return transport

    @classmethod
    def for_callable(cls, handler: Handler) -> InProcessTransport:
        """Wrap a plain callable receiver."""
        return cls(handler)

    @classmethod
    def for_wsgi(cls, app: WSGIApp, *, max_body: int = 1 << 20) -> InProcessTransport:
        """Wrap a WSGI application (Flask, Django, ...); requests go through werkzeug's test client."""
        runner = _Threaded(_wsgi_call(app))
        return cls._over(runner, runner.close, max_body)

    @classmethod
    def for_asgi(cls, app: ASGIApp, *, max_body: int = 1 << 20) -> InProcessTransport:
        """Wrap an ASGI application (Starlette, FastAPI, ...); its lifespan runs before the first request."""
        runner = _ASGIRunner(app)
        return cls._over(runner.call, runner.close, max_body)

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Hand the delivery to the app; an exception in the app becomes a 500, as a server would answer."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2] or "testserver"
        headers = [(k, v) for k, v in delivery.headers.items() if k.lower() != "host"]
        if delivery.url_userinfo and not delivery.header("Authorization"):
            user, password = delivery.url_userinfo
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        started = time.perf_counter()
        try:
            status, pairs, body = self._call(delivery.method, host, path, headers, delivery.body, timeout)
        except _TimedOut:
            return Reply(0, elapsed=time.perf_counter() - started, error=f"timed out after {timeout:g}s")
        except _Refused as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=str(exc))
        except Exception as exc:  # the app crashed: a real server would have answered 500
            elapsed = time.perf_counter() - started
            return Reply(status=500, body=f"{type(exc).__name__}: {exc}".encode(), elapsed=elapsed)
        elapsed = time.perf_counter() - started
        truncated = len(body) > self.max_body
        return Reply(status, _fold(pairs), body[: self.max_body], elapsed, None, truncated)

    def close(self) -> None:
        """Run the ASGI lifespan shutdown and stop its loop, or give hung WSGI and callable handlers time to end."""
        self._closer()

    def __enter__(self) -> InProcessTransport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _fold(pairs: Headers) -> dict[str, str]:
    """Response header pairs as one mapping; a repeated name keeps every value, comma-joined as HTTP allows."""
    out: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in pairs:
        first = lowered.setdefault(name.lower(), name)
        out[first] = f"{out[first]}, {value}" if first in out else value
    return out


class _Threaded:
    """Run a synchronous app call in a daemon thread and stop waiting at the deadline."""

    def __init__(self, call: Callable[[str, str, str, Headers, bytes], _Answer]) -> None:
        self._call = call
        self._hung = 0
        self._lock = threading.Condition()

    def __call__(self, method: str, host: str, path: str, headers: Headers, body: bytes, timeout: float) -> _Answer:
        with self._lock:
            if self._hung >= _MAX_HUNG:
                raise _Refused(f"{self._hung} earlier requests are still running in the app past their timeout")
        run = _Run(self, lambda: self._call(method, host, path, headers, body))
        threading.Thread(target=run, name="harness-inprocess", daemon=True).start()
        if not run.done.wait(max(timeout, 0.0)):
            with self._lock:
                if not run.done.is_set():  # still running: it counts as hung until it returns
                    run.abandoned = True
                    self._hung += 1
                    raise _TimedOut
        if run.error is not None:
            raise run.error
        assert run.answer is not None
        return run.answer

    def close(self, timeout: float = _LIFESPAN_TIMEOUT) -> None:
        """Wait (at most ``timeout`` seconds) for handlers still running past their deadline."""
        with self._lock:
            self._lock.wait_for(lambda: self._hung == 0, timeout)


class _Run:
    """One threaded call: its answer or error, and whether the caller stopped waiting for it."""

    def __init__(self, owner: _Threaded, call: Callable[[], _Answer]) -> None:
        self._owner = owner
        self._call = call
        self.done = threading.Event()
        self.answer: _Answer | None = None
        self.error: Exception | None = None
        self.abandoned = False

    def __call__(self) -> None:
        try:
            self.answer = self._call()
        except Exception as exc:  # handed to the caller, who turns it into a 500
            self.error = exc
        finally:
            with self._owner._lock:
                self.done.set()
                if self.abandoned:
                    self._owner._hung -= 1
                    self._owner._lock.notify_all()


def _callable_call(handler: Handler) -> Callable[[str, str, str, Headers, bytes], _Answer]:
    def call(method: str, host: str, path: str, headers: Headers, body: bytes) -> _Answer:
        status, out, data = handler(method, path, {"Host": host, **dict(headers)}, body)
        pairs = list(out.items()) if isinstance(out, Mapping) else [(str(k), str(v)) for k, v in out]
        return int(status), pairs, bytes(data)

    return call


def _wsgi_call(app: WSGIApp) -> Callable[[str, str, str, Headers, bytes], _Answer]:
    from werkzeug.datastructures import Headers as WerkzeugHeaders
    from werkzeug.test import Client, EnvironBuilder

    def call(method: str, host: str, path: str, headers: Headers, body: bytes) -> _Answer:
        route, _, query = path.partition("?")
        builder = EnvironBuilder(
            path=route,
            query_string=query,
            method=method,
            base_url=f"http://{host}",
            headers=WerkzeugHeaders(headers),
            data=body,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        try:
            response = Client(app, use_cookies=False).open(builder, buffered=True)
        finally:
            builder.close()
        try:
            return response.status_code, list(response.headers.to_wsgi_list()), response.get_data()
        finally:
            response.close()

    return call


class _ASGIRunner:
    """One event loop in a daemon thread: the app's lifespan, then each request through httpx's ASGITransport."""

    def __init__(self, app: ASGIApp) -> None:
        import httpx

        self._app = app
        self._state: dict[str, Any] = {}
        self._transport = httpx.ASGITransport(app=self._with_state, client=("127.0.0.1", 50000))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lifespan: _Lifespan | None = None
        self._lock = threading.Lock()

    async def _with_state(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["state"] = dict(self._state)  # what the lifespan stored, shallow-copied per request (ASGI spec)
        await self._app(scope, receive, send)

    def _started(self, timeout: float) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="harness-asgi", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                self._lifespan = _Lifespan(self._app, self._state)
                startup = asyncio.run_coroutine_threadsafe(self._lifespan.startup(), loop)
                try:
                    startup.result(timeout=max(timeout, _LIFESPAN_TIMEOUT))
                except concurrent.futures.TimeoutError:
                    startup.cancel()
                    self._lifespan.failure = "the app's lifespan startup did not finish"
            if self._lifespan is not None and self._lifespan.failure:
                raise _Refused(self._lifespan.failure)
            return self._loop

    def call(self, method: str, host: str, path: str, headers: Headers, body: bytes, timeout: float) -> _Answer:
        loop = self._started(timeout)
        future = asyncio.run_coroutine_threadsafe(self._request(method, host, path, headers, body), loop)
        try:
            return future.result(timeout=max(timeout, 0.0))
        except concurrent.futures.TimeoutError:
            future.cancel()  # a handler awaiting something is cancelled; one blocking the loop finishes later
            raise _TimedOut from None

    async def _request(self, method: str, host: str, path: str, headers: Headers, body: bytes) -> _Answer:
        import httpx

        # Header values go as bytes, Latin-1 as on the wire: httpx would encode str values as ASCII and fail on bytes a
        # real client can send (an obs-text byte in a forged signature), which is not the app's error.
        raw = [(name.encode("latin-1", "replace"), value.encode("latin-1", "replace")) for name, value in headers]
        request = httpx.Request(method, f"http://{host}{path}", headers=raw, content=body)
        response = await self._transport.handle_async_request(request)
        data = await response.aread()
        return response.status_code, list(response.headers.multi_items()), data

    def close(self) -> None:
        with self._lock:
            loop, thread, lifespan = self._loop, self._thread, self._lifespan
            self._loop = self._thread = self._lifespan = None
        if loop is None or thread is None:
            return
        if lifespan is not None:
            shutdown = asyncio.run_coroutine_threadsafe(lifespan.shutdown(), loop)
            try:
                shutdown.result(timeout=_LIFESPAN_TIMEOUT)
            except Exception:  # a shutdown that fails or overruns must not keep the loop alive
                shutdown.cancel()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_LIFESPAN_TIMEOUT)
        if not thread.is_alive():
            loop.close()


class _Lifespan:
    """The ASGI lifespan protocol from the server's side: startup before requests, shutdown on close."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self._app = app
        self._state = state
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True
        self.failure = ""

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self._state}
        try:
            await self._app(scope, self._to_app.get, self._send)
        except Exception as exc:  # an app without lifespan support raises here; the server carries on without it
            await self._from_app.put({"type": "_raised", "message": f"{type(exc).__name__}: {exc}"})
        else:
            await self._from_app.put({"type": "_returned"})

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        await self._from_app.put(dict(message))

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        answer = await self._from_app.get()
        if answer["type"] == "lifespan.startup.failed":
            self.failure = f"the app's lifespan startup failed: {answer.get('message') or 'no message'}"
        elif answer["type"] != "lifespan.startup.complete":
            self.supported = False

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app to finish it."""
        if not self.supported or self._task is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if not self._task.done():
            self._task.cancel()


@contextmanager
def route_requests(url: str, transport: InProcessTransport, *, timeout: float = 30.0) -> Iterator[Any]:
    """Route ``requests`` calls to ``url`` (any method, any sub-path) into ``transport``; others pass through."""
    import re

    import requests
    import responses

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = request.body or b""
        delivery = Delivery(
            provider="",
            method=str(request.method),
            headers=dict(request.headers),
            body=body.encode() if isinstance(body, str) else bytes(body),
            event_types=(),
            idempotency_keys=(),
        )
        reply = transport.send(delivery, str(request.url), timeout=timeout)
        if reply.error and reply.status == 0:
            raise requests.ConnectionError(reply.error)
        return reply.status, dict(reply.headers), reply.body

    base = url.rstrip("/")
    pattern = re.compile(re.escape(base) + r"(/.*)?(\?.*)?$")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, pattern, callback=callback)
        mock.add_passthru(re.compile(r"^(?!" + re.escape(base) + ").*"))
        yield mock
