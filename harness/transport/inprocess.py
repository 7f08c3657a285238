"""Deliveries straight into a WSGI app, an ASGI app or a plain callable: no server, same checks."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.core.models import Delivery, Reply

__all__ = ["Handler", "InProcessTransport", "route_requests"]

Handler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]
"""A plain callable receiver: ``(method, path_with_query, headers, body) -> (status, headers, body)``."""

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[MutableMapping[str, Any]]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class InProcessTransport:
    """A ``harness.transport.Transport`` that calls the receiver in this process instead of over HTTP."""

    def __init__(self, handler: Handler, *, max_body: int = 1 << 20) -> None:
        self._handler = handler
        self.max_body = max_body

    @classmethod
    def for_callable(cls, handler: Handler) -> InProcessTransport:
        """Wrap a plain callable receiver."""
        return cls(handler)

    @classmethod
    def for_wsgi(cls, app: Callable[..., Iterable[bytes]]) -> InProcessTransport:
        """Wrap a WSGI application (Flask, Django, ...)."""
        return cls(_wsgi_handler(app))

    @classmethod
    def for_asgi(cls, app: ASGIApp) -> InProcessTransport:
        """Wrap an ASGI application (Starlette, FastAPI, ...)."""
        return cls(_asgi_handler(app))

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Hand the delivery to the app; an exception in the app becomes a 500, as a server would answer."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(delivery.headers)
        headers.setdefault("Host", parts.netloc.rpartition("@")[2] or "testserver")
        if delivery.url_userinfo:
            import base64

            user, password = delivery.url_userinfo
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers.setdefault("Authorization", f"Basic {token}")
        started = time.perf_counter()
        try:
            status, out_headers, body = self._handler(delivery.method, path, headers, delivery.body)
        except Exception as exc:  # the app crashed: a real server would have answered 500
            elapsed = time.perf_counter() - started
            return Reply(status=500, body=f"{type(exc).__name__}: {exc}".encode(), elapsed=elapsed)
        elapsed = time.perf_counter() - started
        truncated = len(body) > self.max_body
        reply = Reply(status, dict(out_headers), body[: self.max_body], elapsed, None, truncated)
        if elapsed > timeout:
            return Reply(0, reply.headers, reply.body, elapsed, f"timed out after {timeout:g}s", truncated)
        return reply

    def close(self) -> None:
        """Nothing to release."""


def _wsgi_handler(app: Callable[..., Iterable[bytes]]) -> Handler:
    def handle(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        route, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(route),
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = dict(response_headers)
            return lambda data: None

        result = app(environ, start_response)
        try:
            chunks = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()
        return captured["status"], captured["headers"], chunks

    return handle


def _asgi_handler(app: ASGIApp) -> Handler:
    def handle(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        return asyncio.run(_asgi_call(app, method, path, headers, body))

    return handle


async def _asgi_call(
    app: ASGIApp, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    route, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(route),
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent_body = False
    status = 500
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the app waits for a disconnect that never comes while it answers
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            out_headers.update({k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, send)
    return status, out_headers, b"".join(chunks)


@contextmanager
def route_requests(url: str, transport: InProcessTransport) -> Iterator[Any]:
    """Route ``requests`` calls to ``url`` (any method, any sub-path) into ``transport``; others pass through."""
    import re

    import requests
    import responses

    from harness.core.models import Delivery

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
        reply = transport.send(delivery, str(request.url), timeout=3600)
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
