"""A provider's retry policy, read from its profile: which failures are retried, when, and for how long."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Provider
from harness.core.durations import format_duration, parse_duration

__all__ = ["RetryPolicy"]

_MAX_SCHEDULE = 10_000


@dataclass(frozen=True)
class RetryPolicy:
    """When attempts happen after a failure, and when the provider gives up."""

    statuses: frozenset[int | str] = frozenset({"non-2xx"})
    connection_errors: bool = True
    timeouts: bool = True
    max_attempts: int | None = None
    window: float | None = None
    delays: tuple[float, ...] = ()
    factor: float | None = None
    max_delay: float | None = None
    jitter: float = 0.0
    retry_headers: Mapping[str, str] = field(default_factory=dict)
    honours: frozenset[str] = frozenset()
    resign_each_attempt: bool = True
    on_exhausted: str = "drop"

    @classmethod
    def from_provider(cls, provider: Provider) -> RetryPolicy:
        """The policy in the provider's profile (already merged with any overrides)."""
        return cls.from_mapping(provider.retry)

    @classmethod
    def from_mapping(cls, retry: Mapping[str, Any]) -> RetryPolicy:
        """Build from a profile's ``retry`` block."""
        backoff = retry.get("backoff", {})
        on = retry.get("retry_on", {})
        window = retry.get("window")
        max_delay = backoff.get("max_delay")
        return cls(
            statuses=frozenset(on.get("statuses", ["non-2xx"])),
            connection_errors=bool(on.get("connection_errors", True)),
            timeouts=bool(on.get("timeouts", True)),
            max_attempts=retry.get("max_attempts"),
            window=parse_duration(window) if window else None,
            delays=tuple(parse_duration(d) for d in backoff.get("delays", [])),
            factor=backoff.get("factor"),
            max_delay=parse_duration(max_delay) if max_delay else None,
            jitter=float(backoff.get("jitter", 0.0)),
            retry_headers=dict(retry.get("retry_headers", {})),
            honours=frozenset(retry.get("honours", [])),
            resign_each_attempt=bool(retry.get("resign_each_attempt", True)),
            on_exhausted=str(retry.get("on_exhausted", "drop")),
        )

    def base_delay(self, failures: int) -> float | None:
        """The wait after the ``failures``-th failed attempt (1-based), before jitter; None when retries stop."""
        if self.max_attempts is not None and failures >= self.max_attempts:
            return None
        if failures <= len(self.delays):
            return self.delays[failures - 1]
        if not self.factor or not self.delays:
            return None
        delay = self.delays[-1] * self.factor ** (failures - len(self.delays))
        return min(delay, self.max_delay) if self.max_delay else delay

    def next_delay(self, failures: int, rng: random.Random | None = None) -> float | None:
        """The wait with jitter applied."""
        delay = self.base_delay(failures)
        if delay is None or not self.jitter or rng is None:
            return delay
        return delay * (1 - self.jitter + 2 * self.jitter * rng.random())

    def retryable(self, status: int, error: str | None) -> bool:
        """Does this outcome count as a failure the provider retries?"""
        if status == 0:
            timed_out = bool(error and "timed out" in error)
            return self.timeouts if timed_out else self.connection_errors
        if 200 <= status < 300:
            return False
        for rule in self.statuses:
            if rule == status or rule == "non-2xx" or (isinstance(rule, str) and rule[0] == str(status)[0]):
                return True
        return False

    def schedule(self) -> list[float]:
        """Attempt offsets from the first attempt, without jitter, within the window and attempt cap."""
        offsets = [0.0]
        failures = 1
        while len(offsets) < _MAX_SCHEDULE:
            delay = self.base_delay(failures)
            if delay is None:
                break
            nxt = offsets[-1] + delay
            if self.window is not None and nxt > self.window:
                break
            offsets.append(nxt)
            failures += 1
        return offsets

    def max_survivable_outage(self) -> float:
        """The longest outage with zero loss wherever it starts: the span from first to last attempt.

        An outage loses an event only if it covers every attempt; events arrive at any time, so the worst-placed
        outage begins just before a first attempt. With jitter the span can shrink by the jitter fraction.
        """
        span = self.schedule()[-1]
        return span * (1 - self.jitter)

    def describe(self) -> str:
        """One line."""
        offsets = self.schedule()
        if len(offsets) == 1:
            return "no retries"
        shown = ", ".join(format_duration(o) for o in offsets[1:6]) + (", ..." if len(offsets) > 6 else "")
        limit = f" within {format_duration(self.window)}" if self.window else ""
        return f"{len(offsets)} attempts{limit}: retries at +{shown} (last at +{format_duration(offsets[-1])})"
