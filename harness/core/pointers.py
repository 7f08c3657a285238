"""JSON Pointer (RFC 6901) reads and writes on plain JSON values."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "resolve_pointer", "set_pointer"]

MISSING: Any = object()


def _tokens(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Return the value at ``pointer``, or ``MISSING``."""
    node = document
    for token in _tokens(pointer):
        if isinstance(node, dict):
            if token not in node:
                return MISSING
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return MISSING
    return node


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set the value at ``pointer`` in place, creating objects along the way."""
    tokens = _tokens(pointer)
    node = document
    for token in tokens[:-1]:
        node = node.setdefault(token, {}) if isinstance(node, dict) else node[int(token)]
    if isinstance(node, dict):
        node[tokens[-1]] = value
    else:
        node[int(tokens[-1])] = value
