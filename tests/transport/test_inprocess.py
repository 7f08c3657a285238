"""The in-process transport: WSGI through werkzeug, ASGI through httpx with the lifespan run, a real deadline."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from flask import Flask, Response, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from harness.core.models import Delivery
from harness.transport import inprocess
from harness.transport.inprocess import InProcessTransport

URL = "http://testserver/hooks/in?source=test"
DELIVERY = Delivery("github", "POST", {"Content-Type": "application/json", "X-Id": "7"}, b'{"a": 1}', ("ping",), ("k",))


def _flask_app(release: threading.Event | None = None) -> Flask:
    app = Flask(__name__)

    @app.post("/hooks/in")
    def receive() -> Response:
        if release is not None:
            release.wait(30)  # hangs until the test lets it go (bounded, so a failing test cannot hang the run)
        reply = Response(
            f"{request.headers['X-Id']}|{request.args['source']}|{request.get_data().decode()}|{request.host}",
            status=202,
        )
        reply.headers.add("Link", "<a>; rel=first")
        reply.headers.add("Link", "<b>; rel=next")
        return reply

    @app.post("/hooks/crash")
    def crash() -> Response:
        raise RuntimeError("boom")

    return app


@contextlib.contextmanager
def _released(event: threading.Event) -> Iterator[threading.Event]:
    """Whatever the test does, let the hung handlers finish when it ends."""
    try:
        yield event
    finally:
        event.set()


def test_wsgi_request_reaches_the_app_and_repeated_headers_are_kept() -> None:
    transport = InProcessTransport.for_wsgi(_flask_app())
    reply = transport.send(DELIVERY, URL, timeout=5)
    assert reply.status == 202 and reply.error is None
    assert reply.body == b'7|test|{"a": 1}|testserver'
    assert reply.header("link") == "<a>; rel=first, <b>; rel=next"


def test_wsgi_basic_auth_from_the_url() -> None:
    app = Flask(__name__)

    @app.post("/")
    def who() -> str:
        auth = request.authorization
        return f"{auth.username}:{auth.password}" if auth else "none"

    reply = InProcessTransport.for_wsgi(app).send(
        DELIVERY.replace(url_userinfo=("user", "p@ss")), "http://user:p%40ss@testserver/", timeout=5
    )
    assert reply.body == b"user:p@ss"


def test_wsgi_crash_is_a_500() -> None:
    app = _flask_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True  # the exception reaches the transport, as under a bare WSGI server
    reply = InProcessTransport.for_wsgi(app).send(DELIVERY, "http://testserver/hooks/crash", timeout=5)
    assert reply.status == 500 and b"RuntimeError: boom" in reply.body


def test_a_hung_wsgi_handler_ends_at_the_timeout() -> None:
    with _released(threading.Event()) as release:
        transport = InProcessTransport.for_wsgi(_flask_app(release))
        started = time.perf_counter()
        reply = transport.send(DELIVERY, URL, timeout=0.3)
        waited = time.perf_counter() - started
        assert reply.status == 0 and reply.error == "timed out after 0.3s"
        assert 0.3 <= waited < 5  # the deadline, not the handler, ended the call


def test_hung_handlers_are_bounded() -> None:
    with _released(threading.Event()) as release:
        transport = InProcessTransport.for_wsgi(_flask_app(release))
        replies = [transport.send(DELIVERY, URL, timeout=0.05) for _ in range(inprocess._MAX_HUNG + 1)]
        assert all(r.error == "timed out after 0.05s" for r in replies[:-1])
        assert replies[-1].error is not None and "still running in the app" in replies[-1].error
    transport.close()  # waits for the released handlers to wind down
    assert transport.send(DELIVERY, URL, timeout=5).status == 202


def test_callable_handler_may_return_header_pairs() -> None:
    def handler(method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        return 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], f"{method} {path} {headers['Host']}".encode()

    reply = InProcessTransport.for_callable(handler).send(DELIVERY, URL, timeout=5)
    assert reply.body == b"POST /hooks/in?source=test testserver"
    assert reply.header("set-cookie") == "a=1, b=2"


def _starlette_app(events: list[str]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"store": {"ready": True}}
        events.append("shutdown")

    async def hook(request: Request) -> JSONResponse:
        body = await request.json()
        response = JSONResponse({"ready": request.state.store["ready"], "a": body["a"]})
        response.headers.append("X-Seen", "1")
        response.headers.append("X-Seen", "2")
        return response

    async def hang(request: Request) -> PlainTextResponse:
        await asyncio.Event().wait()
        return PlainTextResponse("never")

    async def crash(request: Request) -> PlainTextResponse:
        raise RuntimeError("boom")

    routes = [
        Route("/hooks/in", hook, methods=["POST"]),
        Route("/hang", hang, methods=["POST"]),
        Route("/crash", crash, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def test_asgi_runs_the_lifespan_and_answers_as_under_starlettes_test_client() -> None:
    events: list[str] = []
    app = _starlette_app(events)
    with TestClient(app) as client:
        expected = client.post("/hooks/in?source=test", content=DELIVERY.body, headers=dict(DELIVERY.headers))
    assert expected.status_code == 200 and events == ["startup", "shutdown"]

    events.clear()
    with InProcessTransport.for_asgi(app) as transport:
        reply = transport.send(DELIVERY, URL, timeout=5)
        assert events == ["startup"]
        assert reply.status == expected.status_code == 200
        assert reply.body == expected.content == b'{"ready":true,"a":1}'
        assert reply.header("x-seen") == "1, 2"
        assert transport.send(DELIVERY, URL, timeout=5).status == 200  # the lifespan ran once
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_a_hung_asgi_handler_is_cancelled_at_the_timeout_and_the_app_keeps_serving() -> None:
    with InProcessTransport.for_asgi(_starlette_app([])) as transport:
        started = time.perf_counter()
        reply = transport.send(DELIVERY, "http://testserver/hang", timeout=0.3)
        assert reply.status == 0 and reply.error == "timed out after 0.3s"
        assert time.perf_counter() - started < 5
        assert transport.send(DELIVERY, URL, timeout=5).status == 200


def test_asgi_crash_is_a_500() -> None:
    with InProcessTransport.for_asgi(_starlette_app([])) as transport:
        reply = transport.send(DELIVERY, "http://testserver/crash", timeout=5)
    assert reply.status == 500


def test_asgi_app_without_lifespan_support_still_serves() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": [(b"x-a", b"1"), (b"x-a", b"2")]})
        await send({"type": "http.response.body", "body": b""})

    with InProcessTransport.for_asgi(bare) as transport:
        reply = transport.send(DELIVERY, URL, timeout=5)
    assert reply.status == 204 and reply.header("X-A") == "1, 2"


def test_a_failed_lifespan_startup_is_reported_not_raised() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        raise AssertionError("not reached")

    with InProcessTransport.for_asgi(failing) as transport:
        reply = transport.send(DELIVERY, URL, timeout=5)
    assert reply.status == 0 and reply.error == "the app's lifespan startup failed: no database"
