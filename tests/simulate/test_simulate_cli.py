"""`webhook-harness simulate`: exit codes, the JSON report, the timeline, usage errors, real HTTP with a probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver


def test_nothing_lost_exits_0_and_a_loss_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "sendgrid", "--dry-run", "--events", "500", "--outage", "1h..7h"]) == 0
    assert main(["simulate", "slack", "--dry-run", "--events", "500", "--outage", "1h..2h"]) == 1
    out = capsys.readouterr().out
    assert "lost 0 (0.00%)" in out and "survives with zero loss, wherever it starts: 20h15m" in out
    assert "wherever it starts: 6m" in out


def test_a_window_as_the_report_prints_it_parses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "sendgrid", "--dry-run", "--events", "10", "--window", "20h15m"]) == 0
    assert "13 attempts within 20h15m" in capsys.readouterr().out


def test_report_and_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, timeline = tmp_path / "out" / "r.json", tmp_path / "t.html"
    argv = ["simulate", "slack", "--dry-run", "--events", "500", "--outage", "1h..2h", "--outage", "5h..5h30m"]
    assert main([*argv, "--report", str(report), "--timeline", str(timeline)]) == 1
    data = json.loads(report.read_text())
    assert data["lost"] > 0 and data["max_survivable_outage_seconds"] == 360.0 and data["exit_code"] == 1
    assert data["events"] == 500 and sum(data["attempts_per_event"].values()) == 500
    assert set(data["time_to_delivery_seconds"]) == {"p50", "p90", "p99", "max"}
    assert data["outages"] == [{"start": 3600.0, "end": 7200.0}, {"start": 18000.0, "end": 19800.0}]
    page = timeline.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and page.count('class="outage"') == 2
    assert "<script" not in page and "http" not in page.split("<svg", 1)[1].replace("http://www.w3.org", "")
    assert f"Report written to {report}" in capsys.readouterr().out


def test_retry_overrides_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "sendgrid", "--dry-run", "--events", "300", "--outage", "0s..3h", "--quiet"]
    assert main([*argv, "--window", "2h", "--delays", "10m", "--factor", "1"]) == 1
    assert "retry window expired" in capsys.readouterr().out
    assert main([*argv, "--max-attempts", "0", "--window", "none", "--delays", "1h", "--factor", "1"]) == 0


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sendgrid", "--outage", "8h..2h", "--dry-run"], "after the start"),
        (["sendgrid"], "Give the receiver URL"),
        (["sendgrid", "--dry-run", "--scenario", "/nope.toml"], "not found"),
        (["nosuch", "--dry-run"], "Unknown provider"),
        (["sendgrid", "--dry-run", "--spread", "soon"], "--spread"),
        (["sendgrid", "--dry-run", "--jitter", "3"], "jitter"),
        (["sendgrid", "--dry-run", "--delays", "1m,x"], "--delays entry"),
        (["sendgrid", "--dry-run", "--time-scale", "0"], "must be positive"),
        (["jira", "--dry-run", "--scenario", "scenarios/teams-chatbot-burst.toml"], "is for teams, not jira"),
        (["sendgrid", "http://127.0.0.1:9/"], "No credentials"),
        (["sendgrid", "--dry-run", "--window", "nan"], "Invalid --window 'nan'"),
        (["sendgrid", "--dry-run", "--window", "inf"], "Invalid --window 'inf'"),
        (["sendgrid", "--dry-run", "--window", "400d"], "longer than a year"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    argv = [str(root / a) if a.startswith("scenarios/") else a for a in argv]
    with pytest.raises(SystemExit) as info:  # option values fail in argparse (SystemExit), the rest return 2
        raise SystemExit(main(["simulate", *argv]))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_real_http_with_a_probe_against_the_reference_receiver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceReceiver("github") as rx:
        secret = rx.credentials.secret or ""
        argv = ["simulate", "github", rx.url, f"--secret={secret}", "--probe-url", rx.probe_url, "--quiet"]
        assert main([*argv, "--events", "30", "--spread", "1h", "--report", str(tmp_path / "r.json")]) == 0
        assert main([*argv, "--events", "30", "--spread", "1h", "--outage", "0s..10m"]) == 1
    out = capsys.readouterr().out
    assert "probe: 30 events checked, all stored exactly once" in out and secret not in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["requests_sent"] == 30 and data["probe"] == {"checked": 30, "mismatches": []}


def test_a_receiver_answering_500_loses_everything_after_the_retries(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("jira", bug="plain-500") as rx:
        argv = ["simulate", "jira", rx.url, f"--secret={rx.credentials.secret}", "--events", "10", "--quiet"]
        assert main(argv) == 1
    out = capsys.readouterr().out
    assert "lost 10 (100.00%)" in out and "(60 real requests)" in out and "retries exhausted 10" in out


def test_scenario_retry_survives_a_command_line_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The scenario gives GitHub (which never retries) a retry schedule; --jitter changes one backoff key. A shallow
    # merge replaced the scenario's whole backoff block, so the run reported "no retries" (issue 11).
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'name = "retrying github"\nprovider = "github"\nseed = 1\n\n[population]\ncount = 20\narrive_over = "1h"\n\n'
        '[[steps]]\nevent = "push"\n\n[retry]\nmax_attempts = 4\n\n[retry.backoff]\ndelays = ["1m", "2m", "3m"]\n',
        encoding="utf-8",
    )
    assert main(["simulate", "github", "--dry-run", "--scenario", str(scenario), "--quiet"]) == 0
    plain = capsys.readouterr().out
    assert main(["simulate", "github", "--dry-run", "--scenario", str(scenario), "--jitter", "0.1", "--quiet"]) == 0
    jittered = capsys.readouterr().out
    assert "4 attempts: retries at +1m, 3m, 6m" in plain
    assert "no retries" not in jittered and "4 attempts" in jittered


def test_every_request_refused_is_broken_down_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 15: a run whose every attempt got 401 said nothing about why.
    report = tmp_path / "r.json"
    with ReferenceReceiver("github") as rx:
        argv = ["simulate", "github", rx.url, "--secret", "not-the-receivers-secret", "--events", "12"]
        code = main([*argv, "--spread", "1m", "--quiet", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed requests 12: HTTP 401 12" in out and "all 12 requests got HTTP 401: check the secret" in out
    assert json.loads(report.read_text())["failed_requests"] == {"HTTP 401": 12}


def test_a_sampled_probe_says_it_is_a_sample_and_how_to_check_all(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("github") as rx:
        assert rx.credentials.secret
        argv = ["simulate", "github", rx.url, "--secret", rx.credentials.secret, "--events", "30", "--spread", "1m"]
        assert main([*argv, "--probe-url", rx.probe_url, "--probe-sample", "10", "--quiet"]) == 0
        sampled = capsys.readouterr().out
        assert main([*argv, "--probe-url", rx.probe_url, "--probe-sample", "0", "--quiet"]) == 0
        everything = capsys.readouterr().out
    assert "a seeded sample of 10 of 30 delivered events checked (--probe-sample 0 checks every one)" in sampled
    assert "probe: 30 events checked, all stored exactly once" in everything


def test_the_probe_phase_reports_its_own_progress() -> None:
    from harness.catalog import load_catalog
    from harness.probes.counts import Probe
    from harness.simulate import simulate

    class Counting(Probe):  # type: ignore[misc]
        def count(self, event_id: str) -> int:
            return 1

    seen: list[tuple[int, int]] = []
    stored: list[int] = []

    def send(batch: list, timeout: float) -> list:  # type: ignore[type-arg]
        from harness.core.models import Reply

        stored.extend(range(len(batch)))
        return [Reply(200, {}, b"", 0.001) for _ in batch]

    result = simulate(
        load_catalog().get("github"),
        "http://127.0.0.1:9/x",
        events=20,
        spread="1m",
        probe=Counting(),
        send=send,
        probe_progress=lambda done, total: seen.append((done, total)),
    )
    assert result.probe_checked == 20 and seen[-1] == (20, 20) and len(seen) == 20
