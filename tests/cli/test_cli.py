"""The CLI contract: exit codes, one-line errors, redaction, and the commands' output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.credentials import ENV_VARS
from harness.receiver import ReferenceReceiver


@pytest.fixture
def github() -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver("github") as rx:
        yield rx


def _one_line_error(err: str) -> None:
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in err


def test_check_passes_against_the_reference_receiver(
    github: ReferenceReceiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = github.credentials.secret
    assert secret
    report = tmp_path / "out" / "report.json"
    code = main(
        [
            "check",
            "github",
            github.url,
            "--secret",
            secret,
            "--probe-url",
            github.probe_url,
            "--seed",
            "5",
            "--max-examples",
            "5",
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "accepts-valid" in out and "PASSED" in out and "seed 5" in out
    data = json.loads(report.read_text())
    assert data["exit_code"] == 0 and data["provider"] == "github" and data["seed"] == 5
    assert data["summary"]["failed"] == 0 and data["summary"]["passed"] >= 9
    assert all({"id", "category", "status", "message", "repro"} <= set(c) for c in data["checks"])
    assert {c["id"] for c in data["checks"]} >= {"accepts-valid", "single-effect"}
    assert secret not in out and secret not in report.read_text()


def test_check_finds_a_bug_exit_1_with_redacted_repro(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with ReferenceReceiver("stripe", bug="no-timestamp-check") as rx:
        secret = rx.credentials.secret
        assert secret
        report = tmp_path / "r.json"
        code = main(["check", "stripe", rx.url, f"--secret={secret}", "--max-examples", "3", "--report", str(report)])
    captured = capsys.readouterr()
    assert code == 1
    assert "rejects-stale-timestamp    FAILED" in captured.out
    assert "Expected:" in captured.out and "Received: HTTP 2" in captured.out and "curl -sS" in captured.out
    assert secret not in captured.out + captured.err + report.read_text()
    failed = [c for c in json.loads(report.read_text())["checks"] if c["status"] == "failed"]
    assert [c["id"] for c in failed] == ["rejects-stale-timestamp"]
    assert failed[0]["category"] == "auth" and failed[0]["repro"].startswith("curl ")
    assert "Seed:" in captured.out and "Payload:" in captured.out


def test_secret_from_environment(
    github: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VARS["secret"], github.credentials.secret or "")
    assert main(["check", "github", github.url, "--check", "rejects-bad-auth", "--check", "accepts-valid"]) == 0
    out = capsys.readouterr().out
    assert "rejects-bad-auth" in out and "single-effect" not in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "nope", "http://127.0.0.1:9/"], "Unknown provider"),
        (["check", "github", "http://127.0.0.1:9/", "--secret", "x", "--check", "nope"], "Unknown check"),
        (["check", "github", "http://127.0.0.1:9/"], "No credentials"),
        (["check", "github", "ftp://127.0.0.1:9/", "--secret", "x"], "http://"),
        (["check", "github", "http://127.0.0.1:9/hook", "--secret", "x"], "Cannot reach the receiver"),
        (["check", "github", "http://127.0.0.1:9/", "--secret", "x", "--probe-url", "http://x/"], "{event_id}"),
        (["check", "github", "http://127.0.0.1:9/", "--secret", "x", "--timeout", "-1"], "Invalid --timeout"),
        (["check", "sendgrid", "http://127.0.0.1:9/", "--signing-key", "/nonexistent.pem"], "Cannot read"),
        (["send", "github", "http://127.0.0.1:9/", "--secret", "x", "--event", "nope"], "Unknown event type"),
        (["generate", "nope"], "Unknown provider"),
    ],
)
def test_user_errors_are_one_line_exit_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(main(argv))
    assert exc_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing but the one line
    err = captured.err
    _one_line_error(err)
    assert needle in err


def test_send_prints_the_exchange_without_secrets(
    github: ReferenceReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = github.credentials.secret or ""
    assert main(["send", "github", github.url, f"--secret={secret}", "--event", "push"]) == 0
    out = capsys.readouterr().out
    assert "> X-Hub-Signature-256: sha256=" in out and "< HTTP 2" in out and "X-GitHub-Event: push" in out
    assert secret not in out


def test_send_forgery_exits_1(github: ReferenceReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "github", github.url, f"--secret={github.credentials.secret}", "--variant", "wrong-key"]) == 1
    assert "< HTTP 401" in capsys.readouterr().out


def test_keygen_writes_a_private_key_and_prints_the_public_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "sg.pem"
    assert main(["keygen", "sendgrid", "--out", str(key)]) == 0
    public = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.stat().st_mode & 0o777 == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    from sendgrid.helpers.eventwebhook import EventWebhook

    EventWebhook(public)  # the public key loads in SendGrid's own helper
    assert main(["keygen", "sendgrid", "--out", str(key)]) == 2  # no silent overwrite


@pytest.mark.parametrize("flag", ["", "--invalid", "--malformed", "--novel"])
def test_generate_prints_deliveries(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "sendgrid", "--count", "2", "--format", "record"] + ([flag] if flag else [])
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("headers" in json.loads(line) for line in lines)


def test_generate_jsonl_bodies_are_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "stripe", "-n", "3", "--seed", "4"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", "stripe", "-n", "3", "--seed", "4"]) == 0
    assert capsys.readouterr().out == first
    bodies = [json.loads(line) for line in first.strip().splitlines()]
    assert len(bodies) == 3 and all(b["object"] == "event" for b in bodies)
    assert main(["generate", "stripe", "-n", "3", "--seed", "5"]) == 0
    assert capsys.readouterr().out != first
    assert main(["generate", "stripe", "-n", "-1"]) == 2  # the table's count type: one line, exit 2


def test_providers_lists_all_nine_and_assumptions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    for pid in ("sendgrid", "jira", "teams", "oci", "github", "stripe", "slack", "shopify", "standard"):
        assert pid in out
    assert main(["providers", "--details"]) == 0
    assert "assumption" in capsys.readouterr().out.lower()
