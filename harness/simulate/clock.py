"""Clocks for the simulator: virtual time that jumps from event to event, or scaled real time for soak runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "ScaledClock", "VirtualClock"]


class Clock(Protocol):
    """Where the simulation is in virtual seconds since t=0, and how it gets to the next event."""

    now: float

    def advance_to(self, t: float) -> bool:
        """Move to virtual time ``t``; False when the run must stop (its real-time budget is spent)."""
        ...

    def ready(self, t: float) -> bool:
        """Is virtual time ``t`` due already (no wait needed)?"""
        ...


class VirtualClock:
    """Virtual time only: jumping to the next event costs nothing, so 24 hours pass in an instant."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def advance_to(self, t: float) -> bool:
        """Jump forward (never backward)."""
        if t > self.now:
            self.now = t
        return True

    def ready(self, t: float) -> bool:
        """Always: virtual time never waits."""
        return True


class ScaledClock:
    """Scaled real time (``--time-scale X``: X virtual seconds per real second), bounded by a real-time budget."""

    def __init__(
        self,
        scale: float,
        *,
        max_wall: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if scale <= 0:
            raise ValueError(f"time scale must be positive, got {scale!r}")
        self.scale = scale
        self.now = 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._started = monotonic()
        self._deadline = None if max_wall is None else self._started + max_wall

    def real_moment(self, t: float) -> float:
        """The monotonic time at which virtual time ``t`` is due."""
        return self._started + t / self.scale

    def ready(self, t: float) -> bool:
        """Is ``t`` due in scaled real time?"""
        return t <= self.now or self.real_moment(t) <= self._monotonic()

    def advance_to(self, t: float) -> bool:
        """Wait until ``t`` is due in scaled real time; False (without waiting) when that is past the budget."""
        if t <= self.now:
            return True
        due = self.real_moment(t)
        if self._deadline is not None and due > self._deadline:
            return False
        pause = due - self._monotonic()
        if pause > 0:
            self._sleep(pause)
        self.now = t
        return True
