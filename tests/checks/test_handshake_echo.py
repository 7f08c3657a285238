"""A raw challenge echo is judged on the challenge's own bytes: one that ends in a space, echoed as it is, is right
(Twitch's challenge field is any string; `make bench`'s full check run found a seed whose challenge did)."""

from __future__ import annotations

from harness.catalog import load_catalog
from harness.checks.handshake import _problems
from harness.core.models import Reply

TWITCH = load_catalog().get("twitch").handshake
assert TWITCH is not None


def _reply(body: bytes) -> Reply:
    return Reply(200, {"Content-Type": "text/plain"}, body)


def test_a_challenge_ending_in_a_space_echoed_as_it_is_is_right() -> None:
    assert _problems(TWITCH, "abc ", _reply(b"abc "), float("inf")) == []


def test_a_trailing_newline_is_tolerated_and_another_text_is_not() -> None:
    assert _problems(TWITCH, "abc", _reply(b"abc\n"), float("inf")) == []
    assert _problems(TWITCH, "abc", _reply(b"abd"), float("inf")) != []
