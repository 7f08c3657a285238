"""Handshakes as the profile describes them: echo a challenge (body, query, header, JSON) or confirm a URL."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from harness.catalog import HandshakeSpec, Provider
from harness.core.pointers import resolve_pointer

__all__ = [
    "CONFIRM_PATH",
    "challenge_of",
    "confirm_subscription",
    "confirmation_url",
    "early_handshake",
    "handshake_answer",
    "harness_callback",
    "is_handshake",
    "loopback_only",
]

CONFIRM_TIMEOUT = 5.0
CONFIRM_PATH = "/20181201/subscriptions/confirm"  # OCI Notifications' confirmation endpoint, as the harness serves it


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _found(spec_in: str, name: str, headers: Mapping[str, str], query: Mapping[str, str], payload: Any) -> Any:
    if spec_in == "header":
        return _header(headers, name)
    if spec_in == "query":
        return query.get(name)
    value = resolve_pointer(payload, name) if isinstance(payload, dict | list) else None
    return value if isinstance(value, str) else None


def _matches(
    spec: HandshakeSpec, headers: Mapping[str, str], query: Mapping[str, str], payload: Any, method: str | None
) -> bool:
    if method is not None and spec.method and method.upper() != spec.method:
        return False
    if spec.match_in:
        value = _found(spec.match_in, spec.match_name, headers, query, payload)
        return value is not None and (spec.match_value is None or value == spec.match_value)
    return _found(spec.challenge_in, spec.challenge_name, headers, query, payload) is not None


def early_handshake(provider: Provider, method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """A handshake recognised before the body is read: its challenge and marker travel in the query or headers."""
    spec = provider.handshake
    if spec is None or spec.kind in ("challenge-body", "confirm-url") or "body" in (spec.challenge_in, spec.match_in):
        return False
    return _matches(spec, headers, query, None, method)


def is_handshake(
    provider: Provider,
    headers: Mapping[str, str],
    payload: Any,
    event_type: str | None,
    query: Mapping[str, str] | None = None,
) -> bool:
    """The message is the provider's handshake rather than an ordinary event."""
    spec = provider.handshake
    if spec is None:
        return False
    if spec.event is not None and event_type == spec.event:
        return True
    return _matches(spec, headers, query or {}, payload, None)


def challenge_of(spec: HandshakeSpec, headers: Mapping[str, str], query: Mapping[str, str], payload: Any) -> str | None:
    """The challenge the receiver must echo, where the description says it travels."""
    value = _found(spec.challenge_in, spec.challenge_name, headers, query, payload)
    return value if isinstance(value, str) else None


def handshake_answer(spec: HandshakeSpec, challenge: str, mode: str = "correct") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer: ``correct``, or a bug's (``wrong-form``, ``wrong-content-type``)."""
    status = spec.reply_status[0] if spec.reply_status else 200
    headers = dict(spec.reply_headers)
    if spec.reply_echo_header:
        headers[spec.reply_echo_header] = challenge
    form = spec.reply_body[0] if spec.reply_body else None
    if mode == "wrong-form" and spec.single_form:
        form = "raw" if form == "json" else "json"
    if mode == "wrong-content-type":  # the framework's default for a string: text/html, and no nosniff
        return status, {"Content-Type": "text/html; charset=utf-8"}, challenge.encode()
    if form == "json":
        headers["Content-Type"] = "application/json"
        return status, headers, json.dumps({spec.reply_key: challenge}).encode()
    if form == "raw":
        headers["Content-Type"] = spec.reply_content_type or "text/plain; charset=utf-8"
        return status, headers, challenge.encode()
    return (status if status != 200 else 200), headers, b""


def confirmation_url(headers: Mapping[str, str], payload: Any, spec: HandshakeSpec | None = None) -> str | None:
    """The URL a confirm-url handshake names: in the body, or else in its header (OCI's by default)."""
    pointer = spec.url_pointer if spec is not None else "/ConfirmationURL"
    header = spec.url_header if spec is not None else "X-OCI-NS-ConfirmationURL"
    value = resolve_pointer(payload, pointer) if pointer and isinstance(payload, dict) else None
    if (not isinstance(value, str) or not value) and header:
        value = _header(headers, header)
    return value if isinstance(value, str) and value else None


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
