"""The core layer owns the root of the user's-mistake family; harness.errors re-exports it (import-linter keeps
core from importing upwards: see [tool.importlinter] in pyproject.toml)."""

from __future__ import annotations

from harness.core.errors import HarnessError as CoreHarnessError
from harness.core.errors import UsageError as CoreUsageError
from harness.errors import HarnessError, UsageError


def test_errors_reexports_the_core_family() -> None:
    assert HarnessError is CoreHarnessError and UsageError is CoreUsageError
    assert issubclass(UsageError, ValueError) and UsageError("a\nb").args == ("a b",)
