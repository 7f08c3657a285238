"""The live progress line names the running check and its requests, and erases itself (issue 15)."""

from __future__ import annotations

import io
import threading

from harness.cli._progress import LiveLine


class _Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.wrote = threading.Event()

    def flush(self) -> None:
        if "running" in self.getvalue():
            self.wrote.set()


def test_the_line_shows_the_step_and_its_requests_then_clears() -> None:
    stream = _Stream()
    live = LiveLine(stream, enabled=True, interval=0.01)
    live.step("no-server-error", lambda: 7)
    assert stream.wrote.wait(timeout=10)
    live.close()
    text = stream.getvalue()
    assert "running no-server-error: 7 requests" in text and text.endswith("\r\x1b[K")


def test_disabled_it_writes_nothing() -> None:
    stream = io.StringIO()
    live = LiveLine(stream, enabled=False, interval=0.01)
    live.step("accepts-valid", lambda: 1)
    live.close()
    assert stream.getvalue() == ""
