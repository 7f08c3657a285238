"""Simulator wording that matches what happened: stored-but-unacknowledged is not lost; no bare "unbounded"."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.receiver import ReferenceReceiver
from harness.simulate.results import SimResult


def test_stored_but_unacknowledged_is_reported_apart_from_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A receiver that stores each event and then replies too late: the provider sees failures, nothing is lost."""
    config = tmp_path / "webhook-harness.toml"
    config.write_text('[providers.github]\ntimeout = "1s"\n', encoding="utf-8")
    provider = load_catalog(overrides={"github": {"timeout": "1s"}}).get("github")
    with ReferenceReceiver(provider, bug="slow", delay=3.0) as rx:
        argv = ["simulate", "github", rx.url, f"--secret={rx.credentials.secret}", "--probe-url", rx.probe_url]
        argv += ["--events", "4", "--spread", "1m", "--quiet", "--config", str(config)]
        assert main([*argv, "--report", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    assert "lost 0 (0.00%)" in out and "stored but unacknowledged 4" in out
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["lost"] == 0 and data["stored_unacknowledged"] == 4 and data["lost_by_reason"] == {}
    assert data["stored_unacknowledged_checked"] == {"checked": 4, "of": 4}


def _result(**overrides: object) -> SimResult:
    values: dict[str, object] = {
        "provider": "x",
        "policy": "p",
        "events": 10,
        "deliveries": 10,
        "delivered": 0,
        "lost": 10,
        "pending": 0,
        "attempts": 10,
        "requests": 10,
        "histogram": {1: 10},
        "time_to_delivery": {},
        "survivable_outage": math.inf,
        "outages": [],
        "wall": 0.1,
        "dry_run": False,
        "lost_by_reason": {"failure not retried": 10},
    }
    values.update(overrides)
    return SimResult(**values)  # type: ignore[arg-type]


def test_no_bare_unbounded_survivable_outage_when_everything_was_lost() -> None:
    result = _result()
    text = result.render()
    assert "wherever it starts: unbounded (outages alone; 10 events were lost" in text
    assert result.to_json()["max_survivable_outage_applies"] is False


def test_the_survivable_outage_stands_when_loss_is_the_outage() -> None:
    result = _result(survivable_outage=3600.0, lost_by_reason={"retries exhausted": 10})
    assert result.render().splitlines()[-2].endswith("wherever it starts: 1h")
    assert result.to_json()["max_survivable_outage_applies"] is True
