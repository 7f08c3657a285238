"""Parsed provider profiles."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry

from harness.catalog._patterns import SafeValidator
from harness.errors import UsageError

__all__ = ["AuthSpec", "BodySpec", "Catalog", "EventType", "HandshakeSpec", "Location", "Provider"]

_SEPARATORS = {"compact": (",", ":"), "default": (", ", ": ")}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives in a delivery: a body JSON Pointer or a header name."""

    where: str
    pointer: str = ""
    name: str = ""
    per_event: bool = False

    def describe(self) -> str:
        """Human form, e.g. ``header X-GitHub-Delivery`` or ``body /sg_event_id (each event)``."""
        if self.where == "header":
            return f"header {self.name}"
        return f"body {self.pointer}" + (" (each event)" if self.per_event else "")


@dataclass(frozen=True, slots=True)
class BodySpec:
    """How a delivery body is shaped and serialised."""

    shape: str
    max_bytes: int
    separators: tuple[str, str] = (",", ":")
    sort_keys: bool = False
    suffix: str = ""
    batch_max_events: int | None = None
    batch_max_bytes: int | None = None
    flush_interval: float | None = None


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """The provider's signing schemes and their documented parameters."""

    schemes: tuple[str, ...]
    tolerance: float | None = None
    oauth_credentials_in: str = "basic"
    oauth_scope: str | None = None


@dataclass(frozen=True, slots=True)
class HandshakeSpec:
    """A handshake the receiver must honour."""

    kind: str
    event: str


@dataclass(frozen=True)
class EventType:
    """One event type: its schema, documented samples and per-type headers."""

    name: str
    schema: dict[str, Any]
    schema_path: Path
    samples: tuple[Any, ...]
    role: str = "event"
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Provider:
    """A provider's delivery facts plus its event catalog."""

    id: str
    title: str
    sources: tuple[str, ...]
    method: str
    content_type: str
    body: BodySpec
    event_type: Location
    events: Mapping[str, EventType]
    headers: Mapping[str, Mapping[str, Any]]
    idempotency_key: Location
    auth: AuthSpec
    timeout: float
    retry: Mapping[str, Any]
    handshake: HandshakeSpec | None
    reply_schema: dict[str, Any] | None
    assumptions: Mapping[str, str]
    root: Path
    registry: Registry = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def ordinary_events(self) -> list[str]:
        """Event types that are not handshakes."""
        return [name for name, ev in self.events.items() if ev.role == "event"]

    @property
    def handshake_event(self) -> EventType | None:
        """The handshake message's event type, if the provider has one."""
        return self.events[self.handshake.event] if self.handshake else None

    def event(self, name: str) -> EventType:
        """Return an event type, or a usage error listing the known ones."""
        try:
            return self.events[name]
        except KeyError:
            known = ", ".join(self.events)
            raise UsageError(f"Unknown event type {name!r} for provider {self.id!r}. Known: {known}.") from None

    @cached_property
    def _validators(self) -> dict[str, Draft202012Validator]:
        return {
            name: SafeValidator(ev.schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for name, ev in self.events.items()
        }

    def validator(self, event: str) -> Draft202012Validator:
        """A compiled validator for one event type's schema."""
        self.event(event)
        return self._validators[event]

    @cached_property
    def reply_validator(self) -> Draft202012Validator | None:
        """A compiled validator for the receiver's reply, where the provider defines one."""
        if self.reply_schema is None:
            return None
        validator: Draft202012Validator = SafeValidator(self.reply_schema, registry=self.registry)
        return validator

    def schema_errors(self, event: str, payload: Any) -> list[str]:
        """Validation errors of one event payload, each as ``/path: message``."""
        errors = sorted(self.validator(event).iter_errors(payload), key=lambda e: list(e.absolute_path))
        return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]

    def encode(self, value: Any) -> bytes:
        """Serialise a body value exactly as the provider does."""
        text = json.dumps(value, separators=self.body.separators, sort_keys=self.body.sort_keys, ensure_ascii=False)
        return (text + self.body.suffix).encode("utf-8")


@dataclass(frozen=True)
class Catalog:
    """All loaded providers, by id."""

    providers: Mapping[str, Provider]
    sources: tuple[Path, ...] = ()

    def get(self, provider_id: str) -> Provider:
        """Return a provider, or a usage error listing the known ids."""
        try:
            return self.providers[provider_id]
        except KeyError:
            known = ", ".join(self.providers)
            raise UsageError(f"Unknown provider {provider_id!r}. Known: {known}.") from None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers.values())

    def __len__(self) -> int:
        return len(self.providers)
