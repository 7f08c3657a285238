"""`responds-in-time` against receivers that never acknowledge: a reset on every connection, or a 500 every time."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from harness.cli import main
from tests.hardening._peers import raw_server


def _reset(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST


def _error(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")


@pytest.mark.parametrize("handler", [_reset, _error], ids=["reset", "500"])
def test_responds_in_time_does_not_pass_when_nothing_was_acknowledged(
    handler: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with raw_server(handler) as peer:  # type: ignore[arg-type]
        argv = ["check", "github", peer.url + "/hook", "--secret", "s" * 24, "--check", "responds-in-time"]
        code = main(argv)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "was acknowledged within 10 s" in out or "blocked" in out.lower(), out
