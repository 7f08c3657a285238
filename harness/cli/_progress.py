"""A live status line on a terminal: which check is running, for how long, and how many requests it has sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO

__all__ = ["LiveLine"]


class LiveLine:
    """Rewrites one stderr line every ``interval`` seconds while a step runs; silent when not enabled."""

    def __init__(self, stream: IO[str], *, enabled: bool, interval: float = 0.5) -> None:
        self.stream = stream
        self.enabled = enabled
        self.interval = interval
        self._label = ""
        self._count: Callable[[], int] = lambda: 0
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def step(self, label: str, count: Callable[[], int]) -> None:
        """Show ``label`` from now on, with the requests ``count`` reports and the time since this call."""
        if not self.enabled:
            return
        with self._lock:
            self._label, self._count, self._started = label, count, time.monotonic()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhook-harness-progress", daemon=True)
            self._thread.start()

    def clear(self) -> None:
        """Erase the line (before printing a result line over it)."""
        if self.enabled:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def close(self) -> None:
        """Stop updating and erase the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.clear()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                elapsed = time.monotonic() - self._started
                text = f"  running {self._label}: {self._count()} requests, {elapsed:.0f}s"
                self.stream.write("\r\x1b[K" + text)
                self.stream.flush()
