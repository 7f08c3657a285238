"""JSON Pointers per RFC 6901, checked against the RFC's own examples (section 5)."""

from __future__ import annotations

import copy

import pytest

from harness.core.pointers import MISSING, parse_pointer, resolve_pointer, set_pointer
from harness.errors import UsageError

RFC_DOCUMENT = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
}


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", RFC_DOCUMENT),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_rfc_6901_examples(pointer: str, expected: object) -> None:
    assert resolve_pointer(RFC_DOCUMENT, pointer) == expected


def test_empty_tokens_are_keys() -> None:
    document = {"": {"a": 1, "": 2}, "a": 3}
    assert parse_pointer("//a") == ["", "a"]
    assert resolve_pointer(document, "//a") == 1  # not document["a"]
    assert resolve_pointer(document, "//") == 2
    assert resolve_pointer({"a": 3}, "//a") is MISSING


def test_escapes_decode_in_order() -> None:
    assert parse_pointer("/~01") == ["~1"]  # ~0 first would give "/"; RFC 6901 section 4 decodes ~1 first


@pytest.mark.parametrize("pointer", ["a", "a/b", "~0", "/a~", "/a~2"])
def test_malformed_pointers_are_usage_errors(pointer: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_pointer({"a": {"b": 1}}, pointer)
    assert repr(pointer) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("token", ["01", "00", "+1", "-1", "1.0", "x"])
def test_bad_array_indexes_are_errors(token: str) -> None:
    with pytest.raises(UsageError, match="not an array index"):
        resolve_pointer({"list": [0, 1, 2]}, f"/list/{token}")


def test_missing_members() -> None:
    document = {"list": [0, 1], "n": 5}
    assert resolve_pointer(document, "/list/2") is MISSING
    assert resolve_pointer(document, "/list/-") is MISSING  # the element after the last one never exists
    assert resolve_pointer(document, "/n/x") is MISSING
    assert resolve_pointer(document, "/absent") is MISSING
    assert resolve_pointer({"01": "key"}, "/01") == "key"  # on an object "01" is an ordinary key


def test_set_pointer() -> None:
    document: dict[str, object] = {"list": [0, 1]}
    set_pointer(document, "/a/b", 1)
    set_pointer(document, "/list/0", "zero")
    set_pointer(document, "/list/-", "end")
    set_pointer(document, "//x", "empty key")
    assert document == {"list": ["zero", 1, "end"], "a": {"b": 1}, "": {"x": "empty key"}}


@pytest.mark.parametrize("pointer", ["", "/list/5", "/list/01", "/n/x", "/list/9/a"])
def test_set_pointer_refuses(pointer: str) -> None:
    document = {"list": [0, 1], "n": 5}
    before = copy.deepcopy(document)
    with pytest.raises(UsageError):
        set_pointer(document, pointer, 1)
    assert document == before
