"""The name-keyed registry every extension point uses."""

from __future__ import annotations

import pytest

from harness.core.registry import Registry
from harness.errors import UsageError


def test_registers_in_order_and_looks_up() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("b", 2)
    registry.register("a", 1)
    assert registry.names() == ["b", "a"] and list(registry) == ["b", "a"] and len(registry) == 2
    assert registry.get("a") == 1 and "a" in registry and "c" not in registry


def test_same_item_twice_is_fine_another_is_an_error() -> None:
    registry: Registry[object] = Registry("check")
    item = object()
    registry.register("x", item)
    registry.register("x", item)
    with pytest.raises(UsageError, match=r"A check named 'x' is already registered\."):
        registry.register("x", object())


def test_unknown_name_lists_the_known_ones() -> None:
    registry: Registry[int] = Registry("scheme")
    with pytest.raises(UsageError, match=r"Unknown scheme 'x'\. Known: none\."):
        registry.get("x")
    registry.register("hmac", 1)
    registry.register("ed25519", 2)
    with pytest.raises(UsageError, match=r"Known: hmac, ed25519\."):
        registry.get("x")
