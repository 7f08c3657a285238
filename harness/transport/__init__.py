"""Sending a delivery to a receiver and getting back a ``Reply``, whatever the receiver does."""

from __future__ import annotations

from typing import Protocol

from harness.core.models import Delivery, Reply
from harness.transport._requests import RequestsTransport, with_userinfo

__all__ = ["RequestsTransport", "Transport", "with_userinfo"]


class Transport(Protocol):
    """Anything that can deliver: over HTTP, into an app in-process, or a fake in tests."""

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Deliver and return the reply; receiver misbehaviour becomes ``Reply(status=0, error=...)``, never a raise."""
        ...
