"""JSON Pointer (RFC 6901) reads and writes on plain JSON values."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from harness.core.errors import UsageError

__all__ = ["MISSING", "parse_pointer", "resolve_pointer", "set_pointer"]

MISSING: Any = object()
_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of ``pointer``: ``""`` is the whole document, ``//a`` is the key ``""`` then ``"a"``."""
    return list(_tokens(pointer))


@lru_cache(maxsize=4096)
def _tokens(pointer: str) -> tuple[str, ...]:
    """``parse_pointer``, parsed once per pointer (a receiver reads the same few pointers in every delivery)."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise UsageError(f"Invalid JSON Pointer {pointer!r}: it must be empty or start with '/'.")
    if _BAD_ESCAPE.search(pointer):
        raise UsageError(f"Invalid JSON Pointer {pointer!r}: '~' must be followed by 0 or 1.")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def _index(token: str, pointer: str) -> int | None:
    """An array index token as an int; None for ``-`` (past the end); a usage error for ``01`` or ``x``."""
    if token == "-":
        return None
    if _INDEX.fullmatch(token) is None:
        raise UsageError(f"Invalid JSON Pointer {pointer!r}: {token!r} is not an array index.")
    return int(token)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Return the value at ``pointer``, or ``MISSING`` when the document has no such member.

    Documents are often untrusted (a receiver's payload of unexpected shape), so a token that is not an array index,
    met on an array, means the member is absent; only a malformed pointer is an error.
    """
    node = document
    for token in _tokens(pointer):
        if isinstance(node, dict):
            if token not in node:
                return MISSING
            node = node[token]
        elif isinstance(node, list):
            if _INDEX.fullmatch(token) is None:  # "-", "01", "type" on an array: this document has no such member
                return MISSING
            index = int(token)
            if index >= len(node):
                return MISSING
            node = node[index]
        else:
            return MISSING
    return node


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set the value at ``pointer`` in place, creating objects along the way (``-`` appends to an array)."""
    tokens = parse_pointer(pointer)
    if not tokens:
        raise UsageError("Cannot set the whole document through the JSON Pointer ''.")
    node = document
    for token in tokens[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(token, {})
        elif isinstance(node, list):
            index = _index(token, pointer)
            if index is None or index >= len(node):
                raise UsageError(f"Cannot set {pointer!r}: array index {token!r} is past the end.")
            node = node[index]
        else:
            raise UsageError(f"Cannot set {pointer!r}: {token!r} is inside a {type(node).__name__}.")
    last = tokens[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        index = _index(last, pointer)
        if index is None or index == len(node):
            node.append(value)
        elif index < len(node):
            node[index] = value
        else:
            raise UsageError(f"Cannot set {pointer!r}: array index {last!r} is past the end.")
    else:
        raise UsageError(f"Cannot set {pointer!r}: {last!r} is inside a {type(node).__name__}.")
