"""A receiver that hangs, floods, redirects in a loop or resets connections neither hangs nor crashes the harness."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from harness.core.models import Delivery
from harness.transport import RequestsTransport
from harness.transport.aio import AioTransport

DELIVERY = Delivery("github", "POST", {"Content-Type": "application/json"}, b'{"zen": "x"}', ("ping",), ("k",))

Handler = Callable[[socket.socket], None]


@contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """A loopback TCP server running ``handler`` per connection; stopped when the block ends."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=_run, args=(conn,), daemon=True)
            threads.append(worker)
            worker.start()

    def _run(conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                _read_request(conn)
                handler(conn)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for worker in threads:
            worker.join(timeout=5)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def hang(conn: socket.socket) -> None:
    """Never answers: the receiver under test hangs until the harness gives up (its own timeout) and hangs up."""
    conn.settimeout(3)  # at most as long as the harness could wait here
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def flood(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
    chunk = b"x" * 65536
    try:
        for _ in range(1600):  # up to 100 MB, until the harness hangs up
            conn.sendall(chunk)
    except OSError:
        pass


def redirect(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /hook\r\nContent-Length: 0\r\n\r\n")


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def drip(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(30):
        conn.sendall(b"x")
        time.sleep(0.1)


@pytest.mark.parametrize("transport_kind", ["requests", "aiohttp"])
def test_hanging_receiver_times_out(transport_kind: str) -> None:
    with raw_server(hang) as url:
        started = time.monotonic()
        reply = _send(transport_kind, url, timeout=0.5)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert reply.status == 0 and reply.error and "timed out" in reply.error


@pytest.mark.parametrize("transport_kind", ["requests", "aiohttp"])
def test_flooding_receiver_is_cut_off(transport_kind: str) -> None:
    with raw_server(flood) as url:
        reply = _send(transport_kind, url, timeout=10)
    assert reply.status == 200 and reply.truncated and len(reply.body) <= 1 << 20


@pytest.mark.parametrize("transport_kind", ["requests", "aiohttp"])
def test_redirect_loop_is_not_followed(transport_kind: str) -> None:
    with raw_server(redirect) as url:
        reply = _send(transport_kind, url, timeout=2)
    assert reply.status == 302 and not reply.ok


@pytest.mark.parametrize("transport_kind", ["requests", "aiohttp"])
def test_reset_connection_is_a_reply(transport_kind: str) -> None:
    with raw_server(reset) as url:
        reply = _send(transport_kind, url, timeout=2)
    assert reply.status == 0 and reply.error


def test_slow_drip_is_bounded_by_the_total_deadline() -> None:
    with raw_server(drip) as url:
        started = time.monotonic()
        reply = RequestsTransport().send(DELIVERY, url, timeout=0.8)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert reply.status == 0 and reply.error and "timed out" in reply.error


@pytest.mark.parametrize("transport_kind", ["requests", "aiohttp"])
def test_refused_connection_is_a_reply(transport_kind: str) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    reply = _send(transport_kind, f"http://127.0.0.1:{port}/hook", timeout=2)
    assert reply.status == 0 and reply.error and "refused" in reply.error


def test_check_against_a_hanging_receiver_finishes() -> None:
    """The whole check engine, not just the transport, survives a receiver that never answers."""
    from harness.credentials import Credentials
    from harness.engine.runner import RunConfig, run_checks

    with raw_server(hang) as url:
        started = time.monotonic()
        result = run_checks(
            RunConfig("shopify", url, Credentials(secret="s"), timeout=0.1, max_examples=2, checks=["accepts-valid"])
        )
        elapsed = time.monotonic() - started
    assert result.exit_code == 1 and elapsed < 30


def _send(kind: str, url: str, *, timeout: float):  # type: ignore[no-untyped-def]
    if kind == "requests":
        return RequestsTransport().send(DELIVERY, url, timeout=timeout)
    with AioTransport(concurrency=2) as transport:
        return transport.send(DELIVERY, url, timeout=timeout)
