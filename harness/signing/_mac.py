"""HMAC-SHA256 with the key schedule computed once per key (RFC 2104), for the signing hot path.

``hmac.new(key, msg, sha256)`` redoes the key setup on every call, which is most of the cost for a webhook-sized body.
Here the inner and outer padded-key states are hashed once and copied per message, exactly as RFC 2104 defines
HMAC; ``tests/signing/test_mac.py`` checks it against RFC 4231's vectors and the standard library.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["hmac_sha256", "hmac_sha256_prefixed"]

_BLOCK = 64  # SHA-256's block size in bytes
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_STATES: dict[bytes, tuple[Any, Any]] = {}


def _states(key: bytes) -> tuple[Any, Any]:
    """The SHA-256 states after absorbing ``K ^ ipad`` and ``K ^ opad`` (cached per key)."""
    found = _STATES.get(key)
    if found is None:
        block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
        block = block.ljust(_BLOCK, b"\0")
        found = (hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD)))
        if len(_STATES) > 64:
            _STATES.clear()
        _STATES[key] = found
    return found


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message``."""
    inner_state, outer_state = _STATES.get(key) or _states(key)
    inner = inner_state.copy()
    inner.update(message)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


def hmac_sha256_prefixed(key: bytes, prefix: bytes, body: bytes) -> bytes:
    """HMAC-SHA256 of ``prefix + body``, without building the concatenation."""
    inner_state, outer_state = _STATES.get(key) or _states(key)
    inner = inner_state.copy()
    inner.update(prefix)
    inner.update(body)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]
