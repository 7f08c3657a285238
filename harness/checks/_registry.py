"""The check registry: each check's id, title, category, input class (hence default severity) and proving bugs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from harness.checks._classes import INPUT_CLASSES
from harness.checks._context import Check, CheckContext
from harness.core.registry import Registry
from harness.errors import UsageError
from harness.violations import ContractViolation

__all__ = [
    "CHECKS",
    "SEVERITIES",
    "check",
    "input_class",
    "ordered_ids",
    "resolve_severities",
    "validate_settle_timeout",
]

CHECKS: Registry[Check] = Registry("check")
SEVERITIES = ("error", "warn", "off")
Run = Callable[[CheckContext], tuple[list[ContractViolation], list[str]]]


def check(
    check_id: str,
    title: str,
    order: int,
    applies: Callable[[CheckContext], str | None] = lambda ctx: None,
    *,
    category: str,
    bugs: Iterable[str],
    sends: str,
    gated: bool = False,
    forgery: bool = False,
) -> Callable[[Run], Run]:
    """Register a check under a stable id with its facts.

    ``sends`` is the input class of the requests the check judges; it decides the default severity. ``gated`` checks
    need a valid delivery to get through first; ``forgery`` checks judge forged credentials, so a receiver that
    accepts every forgery gets one finding for all of them.
    """
    if sends not in INPUT_CLASSES:
        raise ValueError(f"input class of {check_id} must be one of {', '.join(INPUT_CLASSES)}")
    severity = INPUT_CLASSES[sends].severity

    def register(run: Run) -> Run:
        registered = Check(check_id, title, order, applies, run, category, severity, tuple(bugs), gated, sends, forgery)
        CHECKS.register(check_id, registered)
        return run

    return register


def ordered_ids() -> list[str]:
    """Every registered check id, in run order."""
    return sorted(CHECKS.names(), key=lambda name: CHECKS.get(name).order)


def input_class(check_id: str) -> str:
    """The input class a check judges (``provider-sends``, ``anyone-can-send`` or ``secret-holder-only``)."""
    return CHECKS.get(check_id).input_class


def resolve_severities(overrides: Mapping[str, str] | None = None, strict: bool = False) -> dict[str, str]:
    """Each check's severity: its default, then ``overrides``; ``strict`` turns every ``warn`` into ``error``."""
    known = ordered_ids()
    out = {name: CHECKS.get(name).severity for name in known}
    for name, severity in (overrides or {}).items():
        if name not in out:
            raise UsageError(f"Unknown check {name!r} in a severity setting. Known: {', '.join(known)}.")
        if severity not in SEVERITIES:
            raise UsageError(f"Invalid severity {severity!r} for {name}: use {', '.join(SEVERITIES)}.")
        out[name] = severity
    if strict:
        out = {name: "error" if severity == "warn" else severity for name, severity in out.items()}
    return out


def validate_settle_timeout(value: object) -> float:
    """The settle timeout in seconds: a positive, finite number (else a one-line usage error)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise UsageError(f"Invalid settle timeout {value!r}: give a positive duration such as 5s or 500ms.")
    return float(value)
