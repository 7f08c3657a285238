"""Handshakes: Slack's url_verification challenge and OCI's SubscriptionConfirmation callback."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from harness.catalog import Provider

__all__ = [
    "CONFIRM_PATH",
    "confirm_subscription",
    "confirmation_url",
    "harness_callback",
    "is_handshake",
    "loopback_only",
    "subscribe_url",
]

CONFIRM_TIMEOUT = 5.0
CONFIRM_PATH = "/20181201/subscriptions/confirm"  # OCI Notifications' confirmation endpoint, as the harness serves it


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def is_handshake(provider: Provider, headers: Mapping[str, str], payload: Any, event_type: str | None) -> bool:
    """The message is the provider's handshake rather than an ordinary event."""
    spec = provider.handshake
    if spec is None:
        return False
    if event_type == spec.event:
        return True
    if spec.kind == "slack-url-verification":
        return isinstance(payload, dict) and payload.get("type") == "url_verification"
    if spec.kind == "oci-subscription-confirmation":
        return _header(headers, "X-OCI-NS-MessageType") == "SubscriptionConfirmation"
    if spec.kind == "sns-subscription-confirmation":
        return isinstance(payload, dict) and payload.get("Type") == "SubscriptionConfirmation"
    return False


def subscribe_url(payload: Any) -> str | None:
    """SNS's SubscribeURL, from a SubscriptionConfirmation message."""
    value = payload.get("SubscribeURL") if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def confirmation_url(headers: Mapping[str, str], payload: Any) -> str | None:
    """OCI's ConfirmationURL, from the body or else the X-OCI-NS-ConfirmationURL header."""
    value = payload.get("ConfirmationURL") if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        value = _header(headers, "X-OCI-NS-ConfirmationURL")
    return value or None


def loopback_only(url: str) -> bool:
    """The URL is http(s) on a loopback address (the default policy: tests talk only to 127.0.0.1)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def harness_callback(url: str) -> bool:
    """The URL has the shape of the harness's own confirmation callback: loopback, OCI's path, one ``token``.

    Anything else is not fetched, so an authenticated sender cannot use the receiver to probe other local ports.
    """
    if not loopback_only(url):
        return False
    parts = urlsplit(url)
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return False
    return parts.path == CONFIRM_PATH and list(query) == ["token"] and len(query["token"]) == 1 and not parts.fragment


async def confirm_subscription(url: str, timeout: float = CONFIRM_TIMEOUT) -> str | None:
    """GET the confirmation URL (bounded, no redirects); ``None`` on a 2xx, else why it failed."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            await response.content.read(65536)
            return None if 200 <= response.status < 300 else f"confirmation URL answered {response.status}"
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return f"confirmation URL unreachable ({type(exc).__name__})"
