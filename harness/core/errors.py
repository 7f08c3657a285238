"""The root of the user's-mistake family, defined here so the core layer raises it without importing upwards."""

from __future__ import annotations

__all__ = ["HarnessError", "UsageError"]


class HarnessError(Exception):
    """A problem with the harness's inputs or environment; the message is one line, fit for a terminal."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()) if "\n" in message else message)


class UsageError(HarnessError, ValueError):
    """A bad option or argument."""
