"""The record, replay and drift commands: real processes and signals, reports, and every bad input exiting 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver
from harness.recording import Record, record_of, to_delivery
from tests.recording._helpers import CATALOG, TIMEOUT, records, send_all, unsigned

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def github() -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver("github") as rx:
        yield rx


def _start_recorder(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "record", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if " at http://" not in first:
        process.kill()
        process.wait(TIMEOUT)
        raise AssertionError(f"recorder did not start: {first!r} {process.stderr.read() if process.stderr else ''}")
    url = first.split(" at ", 1)[1].split(" ", 1)[0]
    return process, url


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_record_as_a_tap_prints_a_line_per_delivery_and_a_summary_on_signal(
    github: ReferenceReceiver, tmp_path: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "tap.jsonl"
    secret = github.credentials.secret
    assert secret
    args = ["github", "--port", "0", "--out", str(out), "--forward", github.url, "--secret", secret]
    process, url = _start_recorder(args)
    try:
        sent = send_all(github.provider, unsigned(github.provider, 2, event="push"), github.credentials, url)
        assert [reply.status for _, reply in sent] == [200, 200]
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)
    assert process.returncode == 0, stderr
    lines = stdout.strip().splitlines()
    assert sum(" verified -> 200" in line for line in lines) == 2
    assert lines[-1].startswith(f"Recorded 2 deliveries to {out} (2 verified")
    assert secret not in stdout + stderr + out.read_text()
    got = records(out)
    assert [r.body for r in got] == [d.body for d, _ in sent] and all(r.reply for r in got)
    assert all(github.count(k) == 1 for d, _ in sent for k in d.idempotency_keys)


def test_record_port_in_use_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["record", "github", "--port", str(port), "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("webhook-harness: error: Cannot listen on 127.0.0.1:") and "\n" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_record_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["record", "github", "--port", "0", "--out", str(blocker / "sub" / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Cannot write the recording" in err and "\n" not in err and "Traceback" not in err


def _recording(tmp_path: Path, provider_id: str = "github", n: int = 3) -> Path:
    provider = CATALOG.get(provider_id)
    path = tmp_path / f"{provider_id}.jsonl"
    rows = [record_of(d, path="/", received_at="") for d in unsigned(provider, n, seed=6)]
    path.write_text("".join(r.to_line() + "\n" for r in rows), encoding="utf-8")
    return path


def test_replay_cli_end_to_end_with_a_probe_and_a_report(
    github: ReferenceReceiver, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = github.credentials.secret
    assert secret
    monkeypatch.setenv("WEBHOOK_HARNESS_SECRET", secret)
    path = _recording(tmp_path)
    report = tmp_path / "replay.json"
    argv = ["replay", str(path), github.url, "--probe-url", github.probe_url, "--settle", "0"]
    assert main([*argv, "--duplicates", "2", "--order", "shuffle", "--seed", "3", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "6/6 acknowledged, 3/3 keys stored once" in out and secret not in out
    data = json.loads(report.read_text())
    assert data["summary"]["sent"] == 6 and data["summary"]["keys_stored_once"] == 3 and data["exit_code"] == 0
    assert secret not in report.read_text()


def test_replay_cli_against_a_refusing_receiver_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("github", bug="plain-500") as rx:
        secret = rx.credentials.secret or ""
        code = main(["replay", str(_recording(tmp_path, n=1)), rx.url, "--secret", secret, "--settle", "0"])
    out = capsys.readouterr().out
    assert code == 1 and "replay-acknowledged" in out and "HTTP 500" in out and secret not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"method": "POST"\n', "bad.jsonl:1: not JSON"),
        ('{"method": "POST", "path": "/", "body": "{}"}\n', "bad.jsonl:1: the record lacks 'headers'"),
    ],
)
def test_replay_bad_recording_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    assert main(["replay", str(path), "http://127.0.0.1:9/x", "--provider", "github", "--secret", "s3cr3t"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_replay_har_that_is_not_har_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.har"
    path.write_text('{"log": {"pages": []}}')
    assert main(["replay", str(path), "http://127.0.0.1:9/x", "--provider", "github", "--secret", "s"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a HAR 1.2 file" in err and len(err.splitlines()) == 1


def test_replay_without_credentials_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WEBHOOK_HARNESS_SECRET", "WEBHOOK_HARNESS_SIGNING_KEY", "WEBHOOK_HARNESS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["replay", str(_recording(tmp_path, "stripe")), "http://127.0.0.1:9/x"]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs credentials to sign" in err and len(err.splitlines()) == 1


def test_replay_har_needs_a_provider(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.har"
    path.write_text('{"log": {"entries": []}}')
    assert main(["replay", str(path), "http://127.0.0.1:9/x", "--secret", "s"]) == 2
    assert "Give --provider" in capsys.readouterr().err


def test_replay_params_runs_one_test_per_delivery(
    pytester: pytest.Pytester, github: ReferenceReceiver, tmp_path: Path
) -> None:
    path = _recording(tmp_path, n=3)
    pytester.makepyfile(
        f"""
        import pytest
        from harness.credentials import Credentials
        from harness.pytest_plugin import replay_params

        CREDS = Credentials(secret={github.credentials.secret!r})

        @pytest.mark.webhook("github", url={github.url!r}, credentials=CREDS)
        @pytest.mark.parametrize("case", replay_params({str(path)!r}))
        def test_replayed(webhook, case):
            assert case.send(webhook).status == 200
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-v")
    result.assert_outcomes(passed=3)
    # ids are N-<event type>, in recording order
    events = [r.headers.get("X-GitHub-Event") for r in records(path)]
    result.stdout.fnmatch_lines([f"*test_replayed?{n}-{event}* PASSED*" for n, event in enumerate(events, 1)])
    assert all(github.count(k) == 1 for r in records(path) for k in _keys(r))


def _keys(record: Record) -> list[str]:
    return list(to_delivery(CATALOG.get("github"), record).idempotency_keys)


def test_replay_to_an_unreachable_receiver_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/x"
    assert main(["replay", str(_recording(tmp_path, n=1)), dead, "--secret", "s3cr3t-value"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Cannot reach the receiver" in err and len(err.splitlines()) == 1


def test_record_refuses_a_forward_url_that_is_not_http(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "github", "--port", "0", "--out", str(tmp_path / "x"), "--forward", "ftp://x"]) == 2
    assert "Invalid --forward 'ftp://x': must start with http:// or https://" in capsys.readouterr().err


def test_replay_filter_and_generated_records(
    github: ReferenceReceiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "github", "-n", "6", "--format", "record", "--seed", "1"]) == 0
    path = tmp_path / "gen.jsonl"
    path.write_text(capsys.readouterr().out)
    wanted = records(path)[0].header("X-GitHub-Event")
    secret = github.credentials.secret or ""
    argv = ["replay", str(path), github.url, "--secret", secret, "--filter", str(wanted), "--settle", "0"]
    assert main([*argv, "--probe-url", github.probe_url]) == 0
    out = capsys.readouterr().out
    count = sum(r.header("X-GitHub-Event") == wanted for r in records(path))
    assert f"{count}/{count} acknowledged, {count}/{count} keys stored once" in out
