"""Pass-through content: what end users type into fields providers copy verbatim (subjects, commit messages, text).

A provider forwards it as it came, so it is provider-sends like any other delivery: NUL characters, emoji,
right-to-left marks, 10 KB strings and, where the field takes numbers, integers beyond 2^53. Profiles name the fields
(``pass_through``); the volume generator puts one such value into a valid event at a realistic rate, and the
``accepts-pass-through`` check sends one of each kind.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

from harness.core.pointers import resolve_pointer, set_pointer

__all__ = ["DEFAULT_RATE", "KINDS", "PassThroughField", "fields_of", "pick", "with_value"]

DEFAULT_RATE = 0.01  # one event in a hundred carries something unusual a person typed
KINDS: dict[str, Any] = {
    "a NUL character": "before\u0000after",
    "emoji": "Thanks! \U0001f389\U0001f44d\U0001f3fd \u2764\ufe0f",
    "right-to-left marks": "\u200f\u05e9\u05dc\u05d5\u05dd\u200f order #42 \u202bmixed\u202c",
    "a 10 KB string": ("lorem ipsum dolor sit amet " * 380)[:10240],
    "an integer beyond 2^53": 2**53 + 1,
}
_NUMERIC = "an integer beyond 2^53"


class PassThroughField:
    """One free-text field a profile names: its pointer, whether the provider adds it to every event, numbers too."""

    def __init__(self, pointer: str, *, add: bool = False, numbers: bool = False) -> None:
        self.pointer, self.add, self.numbers = pointer, add, numbers

    def kinds(self) -> list[str]:
        """The kinds of value this field can carry."""
        return [k for k in KINDS if k != _NUMERIC or self.numbers]

    def applies(self, payload: Any) -> bool:
        """The field is in this event (or the provider adds it to any event)."""
        if self.add:
            parent = self.pointer.rpartition("/")[0]
            return isinstance(resolve_pointer(payload, parent) if parent else payload, dict)
        return isinstance(resolve_pointer(payload, self.pointer), str)


def fields_of(raw: Sequence[Mapping[str, Any]]) -> tuple[PassThroughField, ...]:
    """The profile's ``pass_through`` list as fields."""
    return tuple(
        PassThroughField(item["pointer"], add=bool(item.get("add")), numbers=bool(item.get("numbers"))) for item in raw
    )


def with_value(payload: Any, field: PassThroughField, kind: str) -> Any:
    """A copy of the event with this kind of value in the field."""
    out = copy.deepcopy(payload)
    set_pointer(out, field.pointer, KINDS[kind])
    return out


def pick(fields: Sequence[PassThroughField], payload: Any, rng: random.Random) -> tuple[PassThroughField, str] | None:
    """One field of this event and one kind for it, or None when no field applies."""
    usable = [f for f in fields if f.applies(payload)]
    if not usable:
        return None
    chosen = usable[int(rng.random() * len(usable))]
    kinds = chosen.kinds()
    return chosen, kinds[int(rng.random() * len(kinds))]
