"""Durations: every form the harness prints parses back, and nonsense is a one-line usage error."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.durations import MAX_DURATION, format_duration, parse_duration
from harness.errors import HarnessError, UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("6h", 21600.0),
        ("2d", 172800.0),
        ("20h15m", 72900.0),  # what README's sendgrid schedule prints as its last attempt
        ("2h30m", 9000.0),
        ("1d2h", 93600.0),
        ("1m30s", 90.0),
        ("1s500ms", 1.5),
        (" 90 s ", 90.0),
        ("1.5h", 5400.0),
        ("45", 45.0),
        ("0.5", 0.5),
        (12, 12.0),
        (0.25, 0.25),
    ],
)
def test_parses(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    ["nan", "inf", "-inf", "Infinity", float("nan"), float("inf"), "-5", -5, "-5s", "1e9", 10**9, "400d",
     "", "s", "5x", "30m2h", "1h1h", "5 m 3s", "1_000", True, "0x10"],
)  # fmt: skip
def test_rejects(text: object) -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration(text, what="--window")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and "--window" in message
    assert isinstance(caught.value, HarnessError) and caught.value.exit_code == 2


def test_the_limit_is_a_year_and_a_day() -> None:
    assert parse_duration("366d") == MAX_DURATION
    with pytest.raises(UsageError, match="longer than a year"):
        parse_duration("366d1s")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250ms"), (45, "45s"), (300, "5m"), (9000, "2h30m"), (72900, "20h15m"), (93600, "1d2h"), (86400, "1d")],
)
def test_formats(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_formats_unbounded_and_negative() -> None:
    assert format_duration(math.inf) == "unbounded"
    assert format_duration(-90) == "-1m30s"


@given(st.floats(min_value=0, max_value=MAX_DURATION, allow_nan=False))
def test_parses_what_it_prints(seconds: float) -> None:
    printed = format_duration(seconds)
    again = parse_duration(printed)
    assert format_duration(again) == printed  # printing drops precision once, then round-trips exactly
    assert abs(again - seconds) <= max(0.0005, 0.5, seconds / 24)  # at most two units: within the dropped part
