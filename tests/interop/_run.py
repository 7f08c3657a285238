"""Run every check against an in-process receiver and give back each check's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.credentials import Credentials
from harness.engine.runner import RunConfig, RunResult, run_checks
from harness.transport import Transport

SEED = 20
FAST = 2.0  # seconds: every receiver here answers in milliseconds, in-process


class CountingProbe:
    """Counts what a handler stored, by idempotency key, for single-effect."""

    def __init__(self, stored: Mapping[str, int]) -> None:
        self.stored = stored

    def count(self, event_id: str) -> int:
        """How many times the handler stored this key."""
        return self.stored.get(event_id, 0)

    def describe(self) -> str:
        """For messages."""
        return "the handler's own store"


def run(
    provider: str, url: str, transport: Transport, credentials: Credentials, **options: Any
) -> tuple[dict[str, str], RunResult]:
    """Every check, with default settings but a short timeout; returns {check id: status} and the result."""
    config = RunConfig(
        provider=provider,
        url=url,
        credentials=credentials,
        transport=transport,
        seed=SEED,
        max_examples=5,
        timeout=options.pop("timeout", FAST),
        settle_timeout=0.5,
        **options,
    )
    result = run_checks(config)
    return {o.check: o.status for o in result.outcomes}, result


def failures(result: RunResult) -> dict[str, list[str]]:
    """Each failed, warned or blocked check with its findings' titles (for assertion messages)."""
    return {
        o.check: [v.title for v in o.violations] + o.notes[:1]
        for o in result.outcomes
        if o.status in ("failed", "warned", "blocked")
    }
