"""The cached-key HMAC-SHA256 is HMAC-SHA256: RFC 4231's vectors and the standard library agree with it."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.signing._mac import hmac_sha256, hmac_sha256_prefixed

LONG_KEY_DATA = (
    b"This is a test using a larger than block-size key and a larger than block-size data."
    b" The key needs to be hashed before being used by the HMAC algorithm."
)
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (b"\xaa" * 131, LONG_KEY_DATA, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231)
def test_rfc_4231_vectors(key: bytes, data: bytes, expected: str) -> None:
    assert hmac_sha256(key, data).hex() == expected
    assert hmac_sha256_prefixed(key, data[:5], data[5:]).hex() == expected
    assert hmac_sha256(key, data).hex() == expected  # second call: from the cached key states


@given(key=st.binary(max_size=200), prefix=st.binary(max_size=40), body=st.binary(max_size=3000))
def test_agrees_with_the_standard_library(key: bytes, prefix: bytes, body: bytes) -> None:
    expected = hmac.new(key, prefix + body, hashlib.sha256).digest()
    assert hmac_sha256_prefixed(key, prefix, body) == expected
    assert hmac_sha256(key, prefix + body) == expected
