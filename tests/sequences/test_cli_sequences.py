"""`webhook-harness sequences`: exit codes, the report and JUnit written like `check`'s, one-line usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver


def _args(rx: ReferenceReceiver, *extra: str) -> list[str]:
    return [
        "sequences", rx.provider.id, rx.url, "--secret", rx.credentials.secret or "", "--state-url", rx.state_url,
        "--max-examples", "5", "--seed", "4", "--settle-timeout", "150ms", *extra,
    ]  # fmt: skip


def test_a_correct_receiver_exits_0_and_reports_each_lifecycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    with ReferenceReceiver("stripe") as rx:
        code = main(_args(rx, "--report", str(report), "--junitxml", str(junit)))
    out = capsys.readouterr().out
    assert code == 0 and "2 of 2 lifecycles converged" in out and "(seed 4)" in out
    data = json.loads(report.read_text())
    assert [c["id"] for c in data["checks"]] == ["converges[subscription]", "converges[invoice]"]
    assert {c["status"] for c in data["checks"]} == {"passed"} and data["seed"] == 4
    assert "test_contract[stripe-converges[invoice]]" in junit.read_text()


def test_a_last_arrival_wins_receiver_exits_1_with_a_timeline_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("stripe", bug="last-arrival-wins") as rx:
        secret = rx.credentials.secret or ""
        code = main(_args(rx, "--lifecycle", "subscription", "--report", str(report)))
    out = capsys.readouterr().out
    assert code == 1 and "0 of 1 lifecycles converged" in out
    assert "minimal failing schedule, 3 deliveries" in out and "Replay with:" in out and "--seed 4" in out
    assert secret not in out and secret not in report.read_text()
    (check,) = json.loads(report.read_text())["checks"]
    assert check["status"] == "failed" and check["repro"].count("curl ") == 3


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ((), "needs a state probe"),
        (("--state-url", "http://127.0.0.1:9/s/{object_id}", "--lifecycle", "nope"), "Unknown lifecycle"),
        (("--state-url", "http://127.0.0.1:9/s/{object_id}", "--state-field", "status"), "--state-field"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    extra: tuple[str, ...], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sequences", "stripe", "http://127.0.0.1:9/hook", "--secret", "whsec_x", *extra])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_a_provider_without_lifecycles_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["sequences", "teams", "http://127.0.0.1:9/hook", "--secret", "eA==", "--state-url", "http://h/{object_id}"]
    )
    assert code == 2 and "declares no lifecycles" in capsys.readouterr().err
