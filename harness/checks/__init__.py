"""The contract checks: one small function each, registered under a stable id."""

from __future__ import annotations

from harness.checks import auth, bodies, handshake, idempotency, timing
from harness.checks._context import Check, CheckContext, CheckOutcome, Exchange
from harness.checks._registry import CHECKS, check

__all__ = ["CHECKS", "Check", "CheckContext", "CheckOutcome", "Exchange", "check", "ordered_ids"]

del auth, bodies, handshake, idempotency, timing


def ordered_ids() -> list[str]:
    """Every registered check id, in run order."""
    return sorted(CHECKS.names(), key=lambda name: CHECKS.get(name).order)
