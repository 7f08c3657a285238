"""What the reference receiver believes about each object of a lifecycle, and the ordering bugs that corrupt it.

The correct receiver keeps, per object, the newest version it has applied and a tombstone once the object is
deleted: an event no newer than what it holds (a duplicate, a stale retry, a late update) changes nothing. Each
ordering bug breaks one of those rules; ``webhook-harness sequences`` must catch every one of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from harness.catalog import Lifecycle, Provider

__all__ = ["ORDERINGS", "ORDERING_BUGS", "STATE_RACE_GAP", "ObjectStates", "OrderingBug"]

STATE_RACE_GAP = 0.05  # racy-state: the await between reading the object and writing it back
ORDERINGS = ("versioned", "last-arrival", "no-tombstone", "type-dedupe", "racy")


@dataclass(frozen=True, slots=True)
class OrderingBug:
    """A named defect in how the receiver applies a lifecycle's events (caught by ``sequences``, not ``check``)."""

    name: str
    description: str
    ordering: str


ORDERING_BUGS: dict[str, OrderingBug] = {
    bug.name: bug
    for bug in (
        OrderingBug(
            "last-arrival-wins",
            "each event's state is written as it arrives, whatever its version: a late event undoes a newer one",
            "last-arrival",
        ),
        OrderingBug(
            "resurrects-deleted",
            "versions are compared, but a delete keeps no tombstone version: a late update brings the object back",
            "no-tombstone",
        ),
        OrderingBug(
            "dedupe-by-event-type",
            "events are deduplicated on their type alone: the next object's events of a type already seen are dropped",
            "type-dedupe",
        ),
        OrderingBug(
            "lost-update",
            "read the object, await, compare and write back without a lock: of two deliveries in flight together, "
            "the older one can overwrite the newer",
            "racy",
        ),
    )
}


@dataclass
class _Record:
    version: float | None
    fields: dict[str, Any]
    gone: bool


class ObjectStates:
    """Each lifecycle object's applied state, in memory, updated as the chosen ordering rule says."""

    def __init__(self, provider: Provider, ordering: str = "versioned") -> None:
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}")
        self.provider = provider
        self.ordering = ordering
        self._records: dict[str, _Record] = {}
        self._seen_types: set[str] = set()

    def view(self, object_id: str) -> dict[str, Any] | None:
        """The object's state fields, or None when it is unknown or deleted."""
        record = self._records.get(object_id)
        if record is None or record.gone:
            return None
        return {"id": object_id, **record.fields}

    async def apply(self, event_type: str | None, body: Any) -> None:
        """Apply one received event to the object it is about (events outside every lifecycle are ignored)."""
        for lifecycle in self.provider.lifecycles.values():
            step = lifecycle.step_of(event_type, body)
            if step is not None:
                await self._apply(lifecycle, step, event_type or "", body)
                return

    async def _apply(self, lifecycle: Lifecycle, step: int, event_type: str, body: Any) -> None:
        object_id = lifecycle.object_id(body)
        if object_id is None:
            return
        version = lifecycle.version(body)
        spec = lifecycle.steps[step]
        new = _Record(version, lifecycle.fields(body), spec.expect is None)
        mode = self.ordering
        if mode == "last-arrival":
            self._records[object_id] = new
            return
        if mode == "type-dedupe":
            if event_type in self._seen_types:
                return
            self._seen_types.add(event_type)
        held = self._records.get(object_id)
        if mode == "racy":
            await asyncio.sleep(STATE_RACE_GAP)  # the bug: what was read may be stale by the time it is written
        if held is not None and held.version is not None and (version is None or version <= held.version):
            return  # a duplicate, a stale retry or a late update: what is held is newer
        if held is not None and held.version is None and version is None:
            return
        if mode == "no-tombstone" and spec.deletes:
            new.version = None  # the bug: the deleted row forgets which version deleted it
        self._records[object_id] = new
