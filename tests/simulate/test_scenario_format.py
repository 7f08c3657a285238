"""Scenario files are validated on load; a bad file gets an error naming the file and the line or field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.simulate import SCENARIO_SCHEMA, load_scenario
from tests.simulate._helpers import CATALOG

HEAD = 'name = "x"\nprovider = "sendgrid"\n[population]\n'
STEP = '\n[[steps]]\nevent = "open"\n'
OK = HEAD + 'count = 10\narrive_over = "1h"\n' + STEP


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (HEAD + 'count = 1\narrive_over = "1h"\n', ["top level", "'steps' is a required property"]),
        (HEAD + 'count = 0\narrive_over = "1h"\n' + STEP, ["population.count (line 4)", "less than the minimum"]),
        (
            HEAD + 'count = 1\narrive_over = "1h"\n' + STEP + '\n[[steps]]\nevent = "nope"\n',
            ["steps[1].event (line 11)"],
        ),
        (HEAD + 'count = 1\narrive_over = "soon"\n' + STEP, ["population.arrive_over (line 5)"]),
        (OK + "rate = 1.5\n", ["steps[0].rate (line 9)", "maximum of 1"]),
        (OK + '\n[[outages]]\nstart = "2h"\nend = "1h"\n', ["outages[0].end (line 12)", "after the start"]),
        (OK + "\n[retry]\nmax_attempts = 0\n", ["retry.max_attempts (line 11)"]),
        (OK + "\n[retry.backoff]\njitter = 2\n", ["retry.backoff.jitter (line 11)"]),
        (OK + 'colour = "red"\n', ["steps[0]", "'colour' was unexpected"]),
        (OK.replace('"sendgrid"', '"sendgird"'), ["provider (line 2)", "Unknown provider 'sendgird'"]),
        ("name = \n", ["invalid TOML", "line 1"]),
    ],
    ids=[
        "missing-steps",
        "count",
        "event",
        "duration",
        "rate",
        "outage",
        "retry",
        "jitter",
        "extra",
        "provider",
        "toml",
    ],
)
def test_bad_scenarios_name_the_file_and_field(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, CATALOG)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for needle in needles:
        assert needle in message


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("/nonexistent/scenario.toml")


def test_a_good_file_loads_and_is_reproducible(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(OK + '\n[noise]\nduplicates = 0.5\n\n[retry]\nwindow = "2h"\n')
    scenario = load_scenario(path, CATALOG)
    assert scenario.count == 10 and scenario.retry == {"window": 7200.0}  # durations in seconds
    first = scenario.units(CATALOG.get("sendgrid"))
    assert first == scenario.units(CATALOG.get("sendgrid"))
    assert any(u.duplicate_of is not None for u in first)
    assert SCENARIO_SCHEMA["required"] == ["name", "provider", "population", "steps"]
