"""Value types that cross layers: the request a provider sends and what the receiver answered."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.text import printable

__all__ = ["Delivery", "Reply", "header_lookup"]


def header_lookup(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


@dataclass(frozen=True)
class Delivery:
    """One request exactly as the provider would send it: body bytes, headers, and what it carries."""

    provider: str
    method: str
    headers: Mapping[str, str]
    body: bytes
    event_types: tuple[str, ...]
    idempotency_keys: tuple[str, ...]
    payload: Any = None
    timestamp: int = 0
    label: str = "valid"
    url_userinfo: tuple[str, str] | None = None
    url: str = ""  # the target URL, without user-info, for a scheme that signs it (Square's ``{url}{body}``)

    def header(self, name: str) -> str | None:
        """Return a header value, matching the name case-insensitively."""
        return header_lookup(self.headers, name)

    def _lowered(self) -> dict[str, str]:
        """Lower-case header name -> the name as stored (cached on the instance; headers never change)."""
        cached: dict[str, str] | None = self.__dict__.get("_lower")
        if cached is None:
            cached = {k.lower(): k for k in self.headers}
            self.__dict__["_lower"] = cached
        return cached

    def with_headers(self, updates: Mapping[str, str], **changes: Any) -> Delivery:
        """Return a copy with headers set (replacing any of the same name, whatever its case), and fields changed."""
        state = self.__dict__
        lowered = state.get("_lower") or self._lowered()
        headers = self.headers
        for name in updates:
            existing = lowered.get(name.lower())
            if existing is not None and existing != name:  # the same header under another case: drop that one
                clashes = {lowered.get(n.lower()) for n in updates} - set(updates)
                headers = {k: v for k, v in headers.items() if k not in clashes}
                break
        new = object.__new__(Delivery)  # the signing hot path: cheaper than dataclasses.replace
        fresh = new.__dict__
        fresh.update(state)
        if changes:
            if not changes.keys() <= _FIELD_SET:
                raise TypeError(f"unknown Delivery fields: {', '.join(sorted(changes.keys() - _FIELD_SET))}")
            fresh.update(changes)
        fresh["headers"] = {**headers, **updates}
        fresh.pop("_lower", None)
        return new

    def _with_signed(self, headers: dict[str, str], timestamp: int | None = None) -> Delivery:
        """A copy carrying exactly ``headers`` (and ``timestamp``): the signing hot path, no field checks."""
        new = object.__new__(Delivery)
        state = new.__dict__
        state.update(self.__dict__)
        state["headers"] = headers
        if timestamp is not None:
            state["timestamp"] = timestamp
        state.pop("_lower", None)
        return new

    def without_headers(self, names: Iterable[str]) -> Delivery:
        """Return a copy without the named headers."""
        lowered = {n.lower() for n in names}
        return self.replace(headers={k: v for k, v in self.headers.items() if k.lower() not in lowered})

    def replace(self, **changes: Any) -> Delivery:
        """Return a copy with fields changed (a hot path when signing: cheaper than dataclasses.replace)."""
        if not changes.keys() <= _FIELD_SET:
            raise TypeError(f"unknown Delivery fields: {', '.join(sorted(changes.keys() - _FIELD_SET))}")
        new = object.__new__(Delivery)
        state = new.__dict__
        state.update(self.__dict__)
        state.update(changes)
        if "headers" in changes:
            state.pop("_lower", None)
        return new


_DELIVERY_FIELDS = tuple(f.name for f in dataclasses.fields(Delivery))
_FIELD_SET = frozenset(_DELIVERY_FIELDS)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the receiver answered, or why it did not (``error`` set and ``status`` 0)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        """Return a response header value, matching the name case-insensitively."""
        return header_lookup(self.headers, name)

    def describe(self, limit: int = 200) -> str:
        """One line: status and a body excerpt, or the transport error."""
        if self.error:
            return f"no response ({printable(self.error, newlines=False)}) after {self.elapsed:.2f}s"
        text = printable(self.body[:limit].decode("utf-8", "replace").replace("\n", " ").strip(), newlines=False)
        more = "…" if len(self.body) > limit or self.truncated else ""
        head = f"HTTP {self.status} in {self.elapsed * 1000:.0f} ms"
        if 300 <= self.status < 400:
            location = next((v for k, v in self.headers.items() if k.lower() == "location"), None)
            head += f" redirecting to {location[:200]!r}" if location else " (a redirect without Location)"
            head += "; providers do not follow redirects, so this delivery counts as failed"
        return head + (f": {text}{more}" if text else "")
