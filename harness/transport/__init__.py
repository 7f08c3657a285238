"""Sending a delivery to a receiver and getting back a ``Reply``, whatever the receiver does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from harness.core.models import Delivery, Reply

if TYPE_CHECKING:
    from harness.transport._requests import RequestsTransport, with_userinfo

__all__ = ["RequestsTransport", "Transport", "with_userinfo"]


def __getattr__(name: str) -> Any:
    """``RequestsTransport`` and ``with_userinfo`` load ``requests`` on first use, not when the package is imported."""
    if name in ("RequestsTransport", "with_userinfo"):
        from harness.transport import _requests

        return getattr(_requests, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Transport(Protocol):
    """Anything that can deliver: over HTTP, into an app in-process, or a fake in tests."""

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Deliver and return the reply; receiver misbehaviour becomes ``Reply(status=0, error=...)``, never a raise."""
        ...
