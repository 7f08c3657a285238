"""A small name-keyed registry, used for checks, signing schemes, header generators and transports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from harness.core.errors import UsageError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Items registered under unique names, listed in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; a second item with the same name is a usage error."""
        existing = self._items.get(name)
        if existing is not None and existing is not item:
            raise UsageError(f"A {self.kind} named {name!r} is already registered.")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """Return the item for ``name``, or raise a usage error listing the known names."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise UsageError(f"Unknown {self.kind} {name!r}. Known: {known}.") from None

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
