"""A provider's retry policy, read from its profile: which failures are retried, when, and for how long."""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Provider
from harness.core.durations import format_duration, parse_duration
from harness.core.merge import deep_merge
from harness.core.models import Reply
from harness.errors import UsageError

__all__ = ["RetryPolicy", "merge_retry", "retry_after_seconds"]

_MAX_SCHEDULE = 10_000
_ON_EXHAUSTED = ("drop", "disable-endpoint")


def merge_retry(base: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """A profile's ``retry`` block with ``overrides`` deep-merged over it (``backoff`` and ``retry_on`` key by key)."""
    return deep_merge(base, overrides)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: delta-seconds, or an HTTP date relative to ``now``."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # '²'.isdigit() is true too
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if now is None:
        return None
    return max(0.0, moment.timestamp() - now)


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
    def from_profile(cls, provider: Provider, overrides: Mapping[str, Any] | None = None) -> RetryPolicy:
        """The policy in the provider's profile, with ``overrides`` (keys of the ``retry`` block) merged over it."""
        return cls.from_mapping(merge_retry(provider.retry, overrides))

    @classmethod
    def from_provider(cls, provider: Provider, overrides: Mapping[str, Any] | None = None) -> RetryPolicy:
        """Alias of ``from_profile``."""
        return cls.from_profile(provider, overrides)

    @classmethod
    def from_mapping(cls, retry: Mapping[str, Any]) -> RetryPolicy:
        """Build from a profile's ``retry`` block; a bad value is a usage error naming the key."""
        backoff = retry.get("backoff") or {}
        on = retry.get("retry_on") or {}
        window = retry.get("window")
        max_delay = backoff.get("max_delay")
        max_attempts = retry.get("max_attempts")
        factor = backoff.get("factor")
        jitter = float(backoff.get("jitter") or 0.0)
        if max_attempts is not None and (not isinstance(max_attempts, int) or max_attempts < 1):
            raise UsageError(f"Invalid retry.max_attempts {max_attempts!r}: an integer >= 1, or null.")
        if factor is not None and (not isinstance(factor, int | float) or factor < 1):
            raise UsageError(f"Invalid retry.backoff.factor {factor!r}: a number >= 1.")
        if not 0.0 <= jitter < 1.0:
            raise UsageError(f"Invalid retry.backoff.jitter {jitter!r}: a fraction in [0, 1).")
        on_exhausted = str(retry.get("on_exhausted") or "drop")
        if on_exhausted not in _ON_EXHAUSTED:
            raise UsageError(f"Invalid retry.on_exhausted {on_exhausted!r}: one of {', '.join(_ON_EXHAUSTED)}.")
        return cls(
            statuses=frozenset(on.get("statuses", ["non-2xx"])),
            connection_errors=bool(on.get("connection_errors", True)),
            timeouts=bool(on.get("timeouts", True)),
            max_attempts=max_attempts,
            window=parse_duration(window, what="retry window") if window else None,
            delays=tuple(parse_duration(d, what="retry delay") for d in backoff.get("delays", [])),
            factor=float(factor) if factor else None,
            max_delay=parse_duration(max_delay, what="retry max_delay") if max_delay else None,
            jitter=jitter,
            retry_headers=dict(retry.get("retry_headers") or {}),
            honours=frozenset(retry.get("honours") or []),
            resign_each_attempt=bool(retry.get("resign_each_attempt", True)),
            on_exhausted=on_exhausted,
        )

    def base_delay(self, attempt: int) -> float | None:
        """The wait after failed attempt ``attempt`` (1-based), before jitter; None when retries stop."""
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        if attempt <= len(self.delays):
            return self.delays[attempt - 1]
        if not self.factor or not self.delays:
            return None
        try:
            delay = self.delays[-1] * self.factor ** (attempt - len(self.delays))
        except OverflowError:
            delay = math.inf
        return min(delay, self.max_delay) if self.max_delay else delay

    def next_delay(self, attempt: int, rng: random.Random | None = None) -> float | None:
        """The wait after failed attempt ``attempt``, with jitter drawn from ``rng``; None when retries stop."""
        delay = self.base_delay(attempt)
        if delay is None or not self.jitter or rng is None:
            return delay
        return delay * (1 - self.jitter + 2 * self.jitter * rng.random())

    def within_window(self, offset: float) -> bool:
        """May an attempt happen ``offset`` seconds after its event (the rolling per-event window)?"""
        return self.window is None or offset <= self.window

    def retryable(self, status: int, error: str | None = None) -> bool:
        """Does this outcome (status 0 with an error: no answer) count as a failure the provider retries?"""
        if status == 0:
            timed_out = bool(error and "timed out" in error)
            return self.timeouts if timed_out else self.connection_errors
        if 200 <= status < 300:
            return False
        text = str(status)
        for rule in self.statuses:
            if (
                rule == status
                or rule == "non-2xx"
                or (isinstance(rule, str) and rule[0] == text[0] and rule[1:] == "xx")
            ):
                return True
        return False

    def is_retryable(self, reply: Reply) -> bool:
        """Would the provider retry after this reply (signals it honours included)?"""
        if reply.ok:
            return False
        if "x-slack-no-retry" in self.honours and reply.header("X-Slack-No-Retry") == "1":
            return False
        if "410-disables" in self.honours and reply.status == 410:
            return False
        return self.retryable(reply.status, reply.error)

    def schedule(self) -> list[float]:
        """Attempt offsets from the event, without jitter, within the window and attempt cap."""
        offsets = [0.0]
        attempt = 1
        while len(offsets) < _MAX_SCHEDULE:
            delay = self.base_delay(attempt)
            if delay is None:
                break
            nxt = offsets[-1] + delay
            if not self.within_window(nxt):
                break
            offsets.append(nxt)
            attempt += 1
        return offsets

    def max_survivable_outage(self) -> float:
        """The longest outage with zero loss wherever it starts (see ``results.max_survivable_outage``)."""
        from harness.simulate.results import max_survivable_outage

        return max_survivable_outage(self)

    def describe(self) -> str:
        """One line."""
        offsets = self.schedule()
        if len(offsets) == 1:
            return "no retries"
        shown = ", ".join(format_duration(o) if o else "0s" for o in offsets[1:6]) + (
            ", ..." if len(offsets) > 6 else ""
        )
        limit = f" within {format_duration(self.window)}" if self.window else ""
        jitter = f", ±{self.jitter:.0%} jitter" if self.jitter else ""
        return f"{len(offsets)} attempts{limit}: retries at +{shown} (last at +{format_duration(offsets[-1])}){jitter}"
