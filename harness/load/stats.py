"""What a load run measured: an HDR latency histogram, status codes, errors by class, and per-second series."""

from __future__ import annotations

import errno
import statistics
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["ERROR_CLASSES", "LoadStats", "error_class"]

ERROR_CLASSES = ("timeout", "reset", "refused", "3xx", "4xx", "5xx", "other")
_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000  # an hour, in microseconds: any latency a run can see
_DIGITS = 3


def error_class(status: int, exc: BaseException | None = None) -> str | None:
    """The error class of one outcome (None for a 2xx)."""
    if exc is None:
        if 200 <= status < 300:
            return None
        if 300 <= status < 400:
            return "3xx"
        if 400 <= status < 500:
            return "4xx"
        if status >= 500:
            return "5xx"
        return "other"
    if isinstance(exc, TimeoutError):
        return "timeout"
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        code = getattr(exc.os_error, "errno", None)
        return "refused" if code in (errno.ECONNREFUSED, None) else "other"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | ConnectionResetError):
        return "reset"
    if isinstance(exc, aiohttp.ClientOSError) and getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE):
        return "reset"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    return "other"


@dataclass
class _Second:
    """One second of the run: starts, successes, errors, latencies (ms)."""

    sent: int = 0
    ok: int = 0
    errors: int = 0
    dropped: int = 0
    latencies: array[float] = field(default_factory=lambda: array("d"))


class LoadStats:
    """Counters for one sender (or several merged): cheap to record, exact percentiles from HdrHistogram."""

    def __init__(self) -> None:
        self.histogram = HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)
        self.status_counts: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.sent = 0
        self.succeeded = 0
        self.dropped = 0
        self.max_lag = 0.0
        self.events_started = 0
        self.events = {"delivered": 0, "refused": 0, "lost": 0, "dropped": 0, "trimmed": 0}
        self.seconds: dict[int, _Second] = {}

    def _second(self, at: float) -> _Second:
        key = int(at) if at > 0 else 0
        found = self.seconds.get(key)
        if found is None:
            found = self.seconds[key] = _Second()
        return found

    def started(self, at: float, lag: float, events: int = 1) -> None:
        """A request carrying ``events`` started at ``at`` seconds into the run, ``lag`` seconds late."""
        self.sent += 1
        self.events_started += events
        self._second(at).sent += 1
        if lag > self.max_lag:
            self.max_lag = lag

    def drop(self, at: float, events: int = 1) -> None:
        """A scheduled start (carrying ``events``) that the concurrency cap refused."""
        self.dropped += 1
        self.events["dropped"] += events
        self._second(at).dropped += 1

    def trimmed(self, events: int) -> None:
        """Events a batch left out to stay under the provider's size cap (counted so the events add up)."""
        self.events["trimmed"] += events

    def finished(self, at: float, elapsed: float, status: int, kind: str | None, events: int = 1) -> None:
        """A request carrying ``events`` that started at ``at`` ended after ``elapsed`` seconds with ``status``
        (0: none) and class: its events are delivered (2xx), refused (another answer) or lost (no answer)."""
        self.events["delivered" if kind is None else "refused" if status else "lost"] += events
        self.histogram.record_value(max(_LOWEST_US, min(_HIGHEST_US, int(elapsed * 1_000_000))))
        second = self._second(at)
        second.latencies.append(elapsed * 1000.0)
        if status:
            self.status_counts[status] += 1
        if kind is None:
            self.succeeded += 1
            second.ok += 1
        else:
            self.errors[kind] += 1
            second.errors += 1

    @property
    def answered(self) -> int:
        """Requests that ended (succeeded or failed)."""
        return self.succeeded + sum(self.errors.values())

    def latency_ms(self) -> dict[str, float]:
        """p50, p90, p99, p99.9 and max in milliseconds (0 when nothing ended)."""
        if self.histogram.get_total_count() == 0:
            return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "p999": 0.0, "max": 0.0}
        at = self.histogram.get_value_at_percentile
        return {
            "p50": at(50.0) / 1000.0,
            "p90": at(90.0) / 1000.0,
            "p99": at(99.0) / 1000.0,
            "p999": at(99.9) / 1000.0,
            "max": self.histogram.get_max_value() / 1000.0,
        }

    def series(self) -> list[dict[str, Any]]:
        """Per second: starts, successes, errors, dropped, p50 and p99 latency (ms)."""
        out = []
        for second in range(max(self.seconds, default=-1) + 1):
            s = self.seconds.get(second, _Second())
            lat = sorted(s.latencies)
            out.append(
                {
                    "t": second,
                    "sent": s.sent,
                    "ok": s.ok,
                    "errors": s.errors,
                    "dropped": s.dropped,
                    "p50_ms": round(statistics.median(lat), 3) if lat else None,
                    "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 3) if lat else None,
                }
            )
        return out

    # -- crossing process boundaries ------------------------------------------------------------------------------
    def to_wire(self) -> dict[str, Any]:
        """Plain data (the histogram HDR-encoded) for a parent process to merge."""
        return {
            "histogram": self.histogram.encode().decode("ascii") if self.histogram.get_total_count() else "",
            "status_counts": dict(self.status_counts),
            "errors": dict(self.errors),
            "sent": self.sent,
            "succeeded": self.succeeded,
            "dropped": self.dropped,
            "max_lag": self.max_lag,
            "events_started": self.events_started,
            "events": dict(self.events),
            "seconds": {k: (s.sent, s.ok, s.errors, s.dropped, s.latencies.tobytes()) for k, s in self.seconds.items()},
        }

    @classmethod
    def merged(cls, parts: Iterable[dict[str, Any]]) -> LoadStats:
        """One ``LoadStats`` from several senders' ``to_wire`` data."""
        out = cls()
        for part in parts:
            if part["histogram"]:
                out.histogram.decode_and_add(part["histogram"])
            out.status_counts.update({int(k): v for k, v in part["status_counts"].items()})
            out.errors.update(part["errors"])
            out.sent += part["sent"]
            out.succeeded += part["succeeded"]
            out.dropped += part["dropped"]
            out.max_lag = max(out.max_lag, part["max_lag"])
            out.events_started += part["events_started"]
            for name, count in part["events"].items():
                out.events[name] += count
            for key, (sent, ok, errors, dropped, raw) in part["seconds"].items():
                second = out._second(float(key))
                second.sent += sent
                second.ok += ok
                second.errors += errors
                second.dropped += dropped
                second.latencies.frombytes(raw)
        return out
