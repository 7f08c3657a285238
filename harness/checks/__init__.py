"""The contract checks: one small function each, registered under a stable id."""

from __future__ import annotations

from harness.checks import auth, bodies, encoding, handshake, idempotency, rotation, sequences, timing
from harness.checks._classes import ANYONE, INPUT_CLASSES, PROVIDER_SENDS, SECRET_HOLDER, InputClass
from harness.checks._context import Check, CheckContext, CheckOutcome, Exchange
from harness.checks._registry import (
    CHECKS,
    SEVERITIES,
    check,
    input_class,
    ordered_ids,
    resolve_severities,
    validate_settle_timeout,
)

__all__ = [
    "ANYONE",
    "CHECKS",
    "INPUT_CLASSES",
    "PROVIDER_SENDS",
    "SECRET_HOLDER",
    "InputClass",
    "SEVERITIES",
    "Check",
    "CheckContext",
    "CheckOutcome",
    "Exchange",
    "categories",
    "check",
    "input_class",
    "ordered_ids",
    "resolve_severities",
    "validate_settle_timeout",
]

del auth, bodies, encoding, handshake, idempotency, rotation, sequences, timing


def categories() -> dict[str, str]:
    """Each check id's category, from its registration."""
    return {name: CHECKS.get(name).category for name in ordered_ids()}
