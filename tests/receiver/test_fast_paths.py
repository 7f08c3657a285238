"""The receiver's CPU savings change nothing it decides: orjson's parse, and the settled `receiver` process."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.receiver import ReferenceReceiver
from harness.receiver._parse import Rejected, parse_json


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


STDLIB = json.JSONDecoder(parse_constant=_no_constant)


def _stdlib(body: bytes) -> Any:
    """What the receiver parsed before orjson: the standard library, strict, or ``Rejected``."""
    try:
        return STDLIB.decode(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Rejected


def _ours(body: bytes) -> Any:
    try:
        return parse_json(body)
    except Rejected:
        return Rejected


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 123456789012345678901234567890}',  # past 64 bits: orjson would make it a float
        b'{"id": -9223372036854775809, "n": 18446744073709551616}',
        b'{"s": "\\ud800"}',  # a lone surrogate escape: orjson refuses it, the standard library takes it
        b'{"x": 1e400}',  # overflows a double: orjson refuses it, the standard library reads inf
        b"[" * 700 + b"]" * 700,  # deeper than orjson's limit
        b"[" * 400 + b"1" + b"]" * 400,
        b'{"a": 1, "a": 2}',
        b'{"a": NaN}',
        b'{"a": [1, 2,]}',
        b"\xef\xbb\xbf{}",
        b'{"a": "\xff"}',
        b'{"u": "\\u00e9\\ud83d\\ude00", "f": 0.30000000000000004, "z": -0.0, "e": 1E2}',
        b"  \n",
    ],
)
def test_parse_json_decides_as_the_standard_library_did(body: bytes) -> None:
    expected, got = _stdlib(body), _ours(body)
    assert repr(got) == repr(expected)  # repr: 1 vs 1.0 and -0.0 vs 0.0 differ too
    if isinstance(expected, dict):
        assert all(type(got[k]) is type(v) for k, v in expected.items())


def test_settle_compiles_every_schema_and_freezes_start_up_out_of_the_collector() -> None:
    try:
        with ReferenceReceiver("standard") as rx:
            rx.settle()
            schemas = rx._handlers.schemas if rx._handlers is not None else None
            assert schemas is not None
            assert set(schemas._compiled) == set(load_catalog().get("standard").events)
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
