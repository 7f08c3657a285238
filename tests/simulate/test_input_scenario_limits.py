"""Scenario files: compound durations as on the command line, and sizes that keep a run bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.simulate import load_scenario

_BASE = """
name = "limits"
provider = "stripe"
[population]
count = {count}
arrive_over = "{arrive}"
{steps}
{extra}
"""
_STEP = '[[steps]]\nevent = "customer.created"\nafter = "{after}"\n'


def _write(
    tmp_path: Path, count: int = 10, arrive: str = "1h", steps: int = 1, after: str = "1m", extra: str = ""
) -> Path:
    path = tmp_path / "s.toml"
    body = "\n".join(_STEP.format(after=after) for _ in range(steps))
    path.write_text(_BASE.format(count=count, arrive=arrive, steps=body, extra=extra), encoding="utf-8")
    return path


def test_compound_durations_read_as_on_the_command_line(tmp_path: Path) -> None:
    extra = "\n".join(
        [
            "[[outages]]",
            'start = "1h30m"',
            'end = "2h30m"',
            "[retry]",
            'window = "1d2h"',
            "[retry.backoff]",
            'delays = ["1m", "2h30m"]',
        ]
    )
    scenario = load_scenario(_write(tmp_path, arrive="2h30m", after="1m30s", extra=extra))
    assert scenario.arrive_over == 9000.0
    assert scenario.outages == [(5400.0, 9000.0)]
    assert scenario.retry["window"] == 93600.0 and scenario.retry["backoff"]["delays"] == [60.0, 9000.0]
    times, _, _ = scenario.events()
    assert len(times) == 10


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"count": 200_000_000}, "maximum"),
        ({"count": 100_000_000, "steps": 5}, "400,000,000 events"),
        ({"arrive": "99999999d"}, "366d"),
        ({"extra": '[[outages]]\nstart = "1h"\nend = "99999999d"'}, "366d"),
        ({"extra": '[retry]\nwindow = "99999999999d"'}, "retry.window"),
    ],
)
def test_sizes_and_spans_are_bounded(tmp_path: Path, kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(ScenarioError, match=says.replace(".", r"\.")):
        load_scenario(_write(tmp_path, **kwargs))  # type: ignore[arg-type]
