"""Lifecycles: the ordered events a provider sends about one object, and the state each step leaves behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.core.pointers import MISSING, parse_pointer, resolve_pointer
from harness.errors import SchemaLoadError, UsageError

__all__ = ["GUARANTEES", "TIME_FORMATS", "Lifecycle", "LifecycleStep", "format_time", "parse_time"]

GUARANTEES = ("none", "ordered")
TIME_FORMATS = ("unix", "unix-ms", "rfc3339")


def format_time(when: float, fmt: str) -> Any:
    """A time as the provider writes it: Unix seconds, Unix milliseconds, or RFC 3339 in UTC with milliseconds."""
    if fmt == "unix":
        return int(when)
    if fmt == "unix-ms":
        return int(when * 1000)
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, fmt: str) -> float | None:
    """A version stamp back as seconds, or None when it is not one (a receiver's view of an unknown body)."""
    try:
        if fmt == "unix" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if fmt == "unix-ms" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) / 1000.0
        if fmt == "rfc3339" and isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError):
        return None
    return None


@dataclass(frozen=True)
class LifecycleStep:
    """One event of a lifecycle: its type, the sample it is shaped like, what it sets and the state it leaves."""

    event: str
    like: str
    set: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, Any] | None = None  # None: the object is gone after this step
    deletes: bool = False

    @property
    def label(self) -> str:
        """How the timeline names the step: the event type, plus what tells two steps of one type apart."""
        action = self.set.get("/action")
        return f"{self.event}.{action}" if isinstance(action, str) and not self.event.endswith(action) else self.event

    def matches(self, event_type: str | None, body: Any) -> bool:
        """The step a received event is: its type, and the fields this step sets that tell it apart."""
        if event_type != self.event:
            return False
        return all(resolve_pointer(body, p) == v for p, v in self.set.items() if p in _DISCRIMINATING)


_DISCRIMINATING = frozenset({"/action"})  # GitHub sends opened/synchronize/closed under one event type


@dataclass(frozen=True)
class Lifecycle:
    """Ordered events about one object: where its id and version live, the ordering promise, the expected states."""

    name: str
    description: str
    object_pointer: str
    object_also: tuple[str, ...]
    object_prefix: str
    object_kind: str  # string | integer
    version_pointer: str
    version_format: str
    guarantee: str  # none | ordered
    source: str
    state: Mapping[str, str]  # field -> JSON Pointer into the event body
    steps: tuple[LifecycleStep, ...]
    view: Mapping[str, str] = field(default_factory=dict)  # field -> JSON Pointer into the receiver's view

    @property
    def final(self) -> Mapping[str, Any] | None:
        """The expected state once every step has been applied (None: the object is gone)."""
        return self.steps[-1].expect

    def step_of(self, event_type: str | None, body: Any) -> int | None:
        """Which step a received event is, or None when it is not part of this lifecycle."""
        return next((i for i, step in enumerate(self.steps) if step.matches(event_type, body)), None)

    def object_id(self, body: Any) -> str | None:
        """The object's id in an event body, as text."""
        value = resolve_pointer(body, self.object_pointer)
        return None if value is MISSING or value is None or isinstance(value, dict | list) else str(value)

    def version(self, body: Any) -> float | None:
        """The event's version stamp in seconds (None when absent or unreadable)."""
        value = resolve_pointer(body, self.version_pointer)
        return None if value is MISSING else parse_time(value, self.version_format)

    def fields(self, body: Any) -> dict[str, Any]:
        """The state fields an event body states."""
        out = {}
        for name, pointer in self.state.items():
            value = resolve_pointer(body, pointer)
            out[name] = None if value is MISSING else value
        return out

    @classmethod
    def parse(cls, name: str, raw: Mapping[str, Any], events: Mapping[str, Any], where: str) -> Lifecycle:
        """A profile's ``lifecycles.NAME`` entry; step events must be in ``events`` (or name one in ``like``)."""
        try:
            for pointer in [
                raw["object_id"]["pointer"],
                *raw["object_id"].get("also", ()),
                raw["version"]["pointer"],
                *raw["state"].values(),
                *raw.get("view", {}).values(),
            ]:
                parse_pointer(pointer)
            state = dict(raw["state"])
            steps = []
            for index, entry in enumerate(raw["steps"]):
                like = entry.get("like", entry["event"])
                if like not in events:
                    raise SchemaLoadError(
                        f"{where}: lifecycle {name!r} step {index + 1} is shaped like {like!r}, which is not in events."
                    )
                for pointer in entry.get("set", {}):
                    parse_pointer(pointer)
                expect = entry.get("expect")
                unknown = sorted(set(expect or {}) - set(state))
                if unknown:
                    raise SchemaLoadError(
                        f"{where}: lifecycle {name!r} step {index + 1} expects {unknown[0]!r}, which is not in state."
                    )
                steps.append(
                    LifecycleStep(
                        event=entry["event"],
                        like=like,
                        set=dict(entry.get("set", {})),
                        expect=dict(expect) if expect is not None else None,
                        deletes=bool(entry.get("deletes", False)),
                    )
                )
        except UsageError as exc:
            raise SchemaLoadError(f"{where}: lifecycle {name!r}: {exc}") from None
        return cls(
            name=name,
            description=raw.get("description", ""),
            object_pointer=raw["object_id"]["pointer"],
            object_also=tuple(raw["object_id"].get("also", ())),
            object_prefix=raw["object_id"].get("prefix", ""),
            object_kind=raw["object_id"].get("type", "string"),
            version_pointer=raw["version"]["pointer"],
            version_format=raw["version"].get("format", "unix"),
            guarantee=raw["ordering"]["guarantee"],
            source=raw["ordering"]["source"],
            state=state,
            steps=tuple(steps),
            view=dict(raw.get("view", {})),
        )
