"""The check registry and the decorator that fills it."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks._context import Check, CheckContext
from harness.core.registry import Registry
from harness.violations import ContractViolation

__all__ = ["CHECKS", "check"]

CHECKS: Registry[Check] = Registry("check")
Run = Callable[[CheckContext], tuple[list[ContractViolation], list[str]]]


def check(
    check_id: str, title: str, order: int, applies: Callable[[CheckContext], str | None] = lambda ctx: None
) -> Callable[[Run], Run]:
    """Register a check function under a stable id."""

    def register(run: Run) -> Run:
        CHECKS.register(check_id, Check(check_id, title, order, applies, run))
        return run

    return register
