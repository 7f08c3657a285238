"""`webhook-harness load` against the reference receiver: rates, SLO gates, probe counts, the storm, bad input."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver
from tests.load._helpers import stored


def _auth(rx: ReferenceReceiver) -> list[str]:
    creds = rx.credentials
    return ["--secret", creds.secret] if creds.secret else []


@pytest.fixture
def github() -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver("github") as rx:
        yield rx


def test_the_rate_is_achieved_and_every_delivered_event_is_stored_once(
    github: ReferenceReceiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    argv = ["load", "github", github.url, *_auth(github), "--rate", "25", "--duration", "2s", "--duplicates", "0.2"]
    argv += ["--probe-url", github.probe_url, "--probe-sample", "0", "--settle", "0s", "--seed", "4"]
    argv += ["--min-rate-achieved", "95%", "--max-error-rate", "0%", "--report", str(report), "--html", str(page)]
    assert main(argv) == 0
    data = json.loads(report.read_text())
    assert data["target_rate"] == pytest.approx(data["scheduled"] / 2) and data["dropped"] == 0
    assert data["achieved_rate"] == data["target_rate"] and data["sent"] == data["scheduled"] > 50
    assert data["succeeded"] == data["sent"] and data["status_counts"] == {"200": data["sent"]}
    assert sum(data["errors"].values()) == 0 and data["exit_code"] == 0
    # resends carried the same key with a fresh signature: the receiver stored each event exactly once
    probe = data["probe"]
    assert probe["checked"] == probe["delivered_keys"] == 50 and probe["stored_once"] == 50 and probe["passed"]
    assert [g["name"] for g in data["slo"]] == ["max-error-rate", "min-rate-achieved"]
    assert all(g["passed"] for g in data["slo"])
    assert "<svg" in page.read_text()
    out = capsys.readouterr().out
    assert "PASS" in out and github.credentials.secret not in out + report.read_text()


def test_a_slow_receiver_fails_the_p99_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("github", bug="slow", delay=0.25) as rx:
        argv = ["load", "github", rx.url, *_auth(rx), "--rate", "10", "--duration", "2s", "--max-p99", "100ms"]
        assert main([*argv, "--report", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["latency_ms"]["p50"] >= 250 and data["slo"][0]["name"] == "max-p99"
    assert data["slo"][0]["passed"] is False and data["exit_code"] == 1
    assert "max-p99 100ms: observed" in capsys.readouterr().out


def test_the_concurrency_cap_drops_starts_instead_of_slowing_down(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("github", bug="slow", delay=1.0) as rx:
        argv = ["load", "github", rx.url, *_auth(rx), "--rate", "20", "--duration", "2s", "--concurrency", "5"]
        assert main([*argv, "--min-rate-achieved", "90", "--report", str(report)]) == 1
    data = json.loads(report.read_text())
    # 5 in flight for 1 s each: about 10 of the 40 scheduled starts fit, the rest are dropped, none is delayed
    assert data["sent"] + data["dropped"] == 40 and 5 <= data["sent"] <= 15 and data["late"] == 0


def test_starts_beyond_the_connections_wait_for_one_instead_of_being_dropped(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("github", bug="slow", delay=0.2) as rx:
        argv = ["load", "github", rx.url, *_auth(rx), "--rate", "10", "--duration", "1s", "--concurrency", "10"]
        assert main([*argv, "--connections", "1", "--no-gates", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    # one connection, 0.2 s per answer: the 10 starts queue behind each other (the last waits about 1.8 s), none
    # is dropped, since no more than 10 are ever in flight
    assert data["sent"] == data["succeeded"] == 10 and data["dropped"] == 0
    assert data["latency_ms"]["max"] >= 1000


def test_two_sender_processes_merge_into_one_report(github: ReferenceReceiver, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    argv = ["load", "github", github.url, *_auth(github), "--rate", "20", "--duration", "2s", "--processes", "2"]
    argv += ["--probe-url", github.probe_url, "--settle", "0s", "--report", str(report)]
    assert main(argv) == 0
    data = json.loads(report.read_text())
    assert data["processes"] == 2 and data["sent"] == data["succeeded"] == 40 and data["dropped"] == 0
    assert data["probe"]["stored_once"] == 40 and data["latency_ms"]["max"] > 0


def test_the_recovery_storm_plays_the_backlog_and_judges_the_default_gates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("stripe") as rx:
        argv = ["load", "stripe", rx.url, *_auth(rx), "--after-outage", "10m", "--rate", "0.2", "--duration", "5m"]
        argv += ["--time-scale", "60", "--probe-url", rx.probe_url, "--settle", "0s", "--report", str(report)]
        assert main(argv) == 0
    data = json.loads(report.read_text())
    assert data["mode"] == "storm" and data["duration_s"] == 5.0 and data["details"]["outage_s"] == 600
    assert data["sent"] == data["succeeded"] == data["scheduled"] > 60  # 60 new events and the backlog's retries
    assert data["dropped"] == 0 and data["details"]["resends"] > 0
    assert [g["name"] for g in data["slo"]] == ["max-p99", "max-error-rate"] and data["probe"]["passed"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--rate", "0"], "--rate must be above 0"),
        (["--rate", "-3"], "--rate must be above 0"),
        (["--ramp", "10-20"], "--ramp must be N..M"),
        (["--processes", str((os.cpu_count() or 1) * 4 + 1)], "more than 4x"),
        (["--duration", "soon"], "Invalid --duration"),
        (["--max-p99", "fast"], "Invalid --max-p99"),
        (["--max-error-rate", "many"], "--max-error-rate must be a percentage"),
        (["--min-rate-achieved", "200%"], "--min-rate-achieved must be a percentage"),
        (["--event", "nosuch"], "has no event type"),
        (["--duplicates", "2"], "--duplicates"),
        (["--timeout", "0s"], "Invalid --timeout '0s': must be a positive duration"),
        (["--concurrency", "1", "--processes", "2"], "must be at least --processes"),
        (["--connections", "1", "--processes", "2"], "--connections (1) must be at least --processes"),
        (["--connections", "0"], "--connections"),
        (["--connections", "2", "--locust"], "--connections do not go with --locust"),
    ],
)
def test_bad_input_exits_2_with_one_line(extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_storm_for_a_provider_that_does_not_retry_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, "--after-outage", "1h"]) == 2
    err = capsys.readouterr().err
    assert "does not retry" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("extra", [["--duplicates", "0.1"], ["--servers", "3"]])
def test_a_storm_refuses_the_open_model_shape_options(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", "stripe", "http://127.0.0.1:9/", "--secret", "whsec_" + "s" * 20, "--after-outage", "1h", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--after-outage" in err and extra[0] in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_receiver_exits_2_before_sending(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/hook"
    assert main(["load", "github", url, "--secret", "s" * 20, "--rate", "5", "--duration", "1s"]) == 2
    err = capsys.readouterr().err
    assert "unreachable" in err and len(err.strip().splitlines()) == 1


def test_locust_asked_for_but_missing_exits_2_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "locust", None)  # as if the extra were not installed
    assert main(["load", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, "--locust"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'webhook-harness[locust]'" in err and len(err.strip().splitlines()) == 1


def test_load_runs_on_locust_when_asked(github: ReferenceReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", "github", github.url, *_auth(github), "--locust", "--rate", "10", "--duration", "3s"]
    assert main([*argv, "--concurrency", "2"]) == 0
    assert 10 <= stored(github) <= 40  # about 10/s for 3 s, every one a distinct event
    # gates belong to the native sender
    assert main(["load", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, "--locust", "--max-p99", "1s"]) == 2
    assert "do not go with --locust" in capsys.readouterr().err


def test_sendgrid_batches_per_server_signed_with_ecdsa_and_a_cached_oauth_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.signing.oauth import TokenClient

    fetched: list[str] = []
    fetch = TokenClient._fetch

    def counted(self: TokenClient) -> tuple[str, float]:
        fetched.append(self.token_url)
        return fetch(self)

    monkeypatch.setattr(TokenClient, "_fetch", counted)
    report = tmp_path / "r.json"
    with ReferenceReceiver("sendgrid") as rx:
        creds = rx.credentials
        assert creds.signing_key and creds.token_url and creds.client_id and creds.client_secret
        argv = ["load", "sendgrid", rx.url, "--signing-key", creds.signing_key, "--token-url", creds.token_url]
        argv += ["--client-id", creds.client_id, "--client-secret", creds.client_secret, "--servers", "3"]
        argv += ["--rate", "40", "--duration", "2s", "--probe-url", rx.probe_url, "--probe-sample", "0"]
        assert main([*argv, "--settle", "0s", "--report", str(report)]) == 0
        fetches = len(fetched)
    data = json.loads(report.read_text())
    # 80 events in 3 servers' buffers, each flushed when the run ends: 3 posts carrying every event
    assert data["sent"] == data["succeeded"] == 3 and data["achieved_rate"] == 40.0
    assert data["probe"]["delivered_keys"] == data["probe"]["stored_once"] == 80
    assert fetches == 1  # one token, reused for every post
