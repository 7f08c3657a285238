"""A provider's retry policy, read from its profile: which failures are retried, when, for how long, and the longest
outage it survives."""

from __future__ import annotations

import dataclasses
import email.utils
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.catalog import Provider, RetrySpec
from harness.core.durations import format_duration
from harness.core.models import Reply

__all__ = ["RetryPolicy", "max_survivable_outage", "retry_after_seconds"]

_MAX_SCHEDULE = 10_000
_MAX_ATTEMPTS = 10_000


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
class RetryPolicy(RetrySpec):
    """When attempts happen after a failure, and when the provider gives up: a ``RetrySpec`` that can schedule."""

    @classmethod
    def from_spec(cls, spec: RetrySpec) -> RetryPolicy:
        """The policy a catalog ``RetrySpec`` states."""
        return cls(**{f.name: getattr(spec, f.name) for f in dataclasses.fields(RetrySpec)})

    @classmethod
    def from_profile(cls, provider: Provider, overrides: Mapping[str, Any] | None = None) -> RetryPolicy:
        """The policy in the provider's profile, with ``overrides`` (keys of the ``retry`` block) merged over it."""
        return cls.from_spec(RetrySpec.parse(overrides or {}, base=provider.retry))

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
        return self.stop_reason(reply) is None

    def stop_reason(self, reply: Reply) -> str | None:
        """Why the provider stops after this reply (``delivered``, ``disabled`` by a 410, ``told-not-to`` by Slack's
        no-retry header, ``not-retryable``), or None when it retries."""
        if reply.ok:
            return "delivered"
        if "410-disables" in self.honours and reply.status == 410:
            return "disabled"
        if "x-slack-no-retry" in self.honours and reply.header("X-Slack-No-Retry") == "1":
            return "told-not-to"
        return None if self.retryable(reply.status, reply.error) else "not-retryable"

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

    def max_survivable_outage(self, *, lead: float = 0.0) -> float:
        """The longest outage with zero loss wherever it starts (see the module's ``max_survivable_outage``)."""
        return max_survivable_outage(self, lead=lead)

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


def max_survivable_outage(policy: RetryPolicy, *, lead: float = 0.0) -> float:
    """The longest outage that loses no event wherever it starts (``math.inf`` when retries never end).

    An outage ``[s, s + L)`` loses an event only when every attempt falls inside it, and the worst-placed outage
    starts with an event's first attempt. So the answer is the shortest span from first to last attempt that the
    policy can produce: the last nominal offset without jitter. With jitter ``j`` attempt ``i`` lands anywhere in
    ``[(1 - j) o_i, (1 + j) o_i]``, and the schedule can also end at an earlier attempt when the next one is pushed
    past the window, so each attempt that can be the last contributes its earliest possible time. ``lead`` is how long
    after its event the first attempt may come (a batch's flush interval): it eats into the rolling window.
    """
    jitter = policy.jitter
    window = None if policy.window is None else policy.window - lead
    if window is not None and window < 0:
        return 0.0
    if window is None and policy.max_attempts is None and policy.factor and policy.delays:
        return math.inf
    best = math.inf
    offset = 0.0
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        earliest, latest = (1 - jitter) * offset, (1 + jitter) * offset
        if window is not None and earliest > window:
            break
        delay = policy.base_delay(attempt)
        if delay is None:
            return min(best, earliest)
        if window is not None:
            threshold = window - (1 + jitter) * delay  # the next attempt can fall past the window
            candidate = max(earliest, threshold)
            if candidate == earliest or candidate < min(latest, window):
                best = min(best, candidate)
        offset += delay
    return best
