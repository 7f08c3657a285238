"""What a receiver runs to authenticate a request: one scheme's check over raw headers and body bytes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.credentials import without_userinfo

__all__ = ["Headers", "Verifier", "get_header", "parse_int", "signing_url", "unb64"]

Headers = Mapping[str, str]


def get_header(headers: Headers, name: str) -> str | None:
    """A header value by name, exact case first, then case-insensitively."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def unb64(text: str) -> bytes | None:
    """Strict base64, or None."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_int(text: str | None) -> int | None:
    """A short run of ASCII digits as an int, or None (no signs, spaces or underscores)."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return int(text)


def signing_url(url: str) -> str:
    """The URL as a scheme signs it: exactly as given, query string included, without user-info or fragment."""
    if "@" not in url and "#" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.partition("#")[0]
    return without_userinfo(urlunsplit(parts._replace(fragment="")))


def _no_stamp(headers: Headers) -> int | None:
    return None


def _no_text(headers: Headers) -> str | None:
    return None


@dataclass(frozen=True)
class Verifier:
    """One configured scheme as a receiver checks it: which headers it reads, and why a request fails it."""

    name: str
    headers: tuple[str, ...]
    signs_body: bool
    check: Callable[[Headers, bytes], str | None]
    timestamp: Callable[[Headers], int | None] = _no_stamp
    future_ok: bool = False
    check_url: Callable[[Headers, bytes, str], str | None] | None = None  # set when the scheme signs the URL
    timestamp_text: Callable[[Headers], str | None] = _no_text  # the signed timestamp as sent, unparsed
    parse_stamp: Callable[[str], object] = int  # how a naive receiver parses that text (raises on a bad one)
    # Set when the credentials travel in the body (Mailgun, SNS, Graph's clientState): the fields found there, under
    # names no header has (``(body) NAME``); ``headers`` names them, so ``view`` and ``present`` see them as headers
    body_fields: Callable[[bytes], Mapping[str, str]] | None = None
    # Set when one header lists a signature per active key (header, separator, each entry's prefix): Standard v1a
    signature_list: tuple[str, str, str] | None = None

    @classmethod
    def stamped(
        cls,
        name: str,
        headers: tuple[str, ...],
        signs_body: bool,
        check: Callable[[Headers, bytes], str | None],
        stamp_header: str,
        seconds: Callable[[str | None], int | None] = parse_int,
        **options: Any,
    ) -> Verifier:
        """A verifier whose signed timestamp is the text of ``stamp_header`` (a ``(body)`` field too), read by
        ``seconds``."""
        return cls(
            name,
            headers,
            signs_body,
            check,
            lambda h: seconds(get_header(h, stamp_header)),
            timestamp_text=lambda h: get_header(h, stamp_header),
            **options,
        )

    def view(self, headers: Headers, body: bytes) -> Headers:
        """The headers this scheme reads: the request's, plus the credential fields a body carries."""
        if self.body_fields is None:
            return headers
        own = {name.lower() for name in self.headers}
        return {**{k: v for k, v in headers.items() if k.lower() not in own}, **self.body_fields(body)}

    def reason(self, headers: Headers, body: bytes, url: str = "") -> str | None:
        """Why the request fails this scheme (not counting freshness), or None; ``url`` is where it was sent."""
        if self.check_url is not None:
            return self.check_url(headers, body, url)
        return self.check(headers, body)

    def present(self, headers: Headers, body: bytes = b"") -> bool:
        """Any of this scheme's headers is on the request (or, for credentials in the body, one of their fields)."""
        seen = self.view(headers, body)
        return any(get_header(seen, name) is not None for name in self.headers)

    def stale(self, headers: Headers, now: float, tolerance: float | None) -> str | None:
        """Why the signed timestamp is outside the tolerance window, if it is."""
        stamp = self.timestamp(headers)
        if tolerance is None or stamp is None:
            return None
        if now - stamp > tolerance:
            return "timestamp too old"
        if stamp - now > tolerance and not self.future_ok:
            return "timestamp in the future"
        return None
