"""`load` tells the truth: gates by default, events counted, batches under the provider's cap, no orphan senders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.credentials import Credentials
from harness.receiver import ReferenceReceiver

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()


@pytest.fixture
def receiver() -> Iterator[ReferenceReceiver]:
    # Shopify signs like GitHub (an HMAC of the body with a raw secret, keys in a header) from 4 event types, not 259:
    # the load processes these tests start compile their payload generators in a blink.
    with ReferenceReceiver("shopify", credentials=Credentials(secret="right-secret-0123456789")) as rx:
        yield rx


def test_a_run_where_every_request_is_refused_fails_by_default(
    receiver: ReferenceReceiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    argv = ["load", "shopify", receiver.url, "--secret", "wrong-secret-0123456789", "--rate", "20", "--duration", "1s"]
    assert main([*argv, "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "max-error-rate 1%: observed 100% VIOLATED" in out and "\nFAIL\n" in out
    data = json.loads(report.read_text())
    assert data["events"]["refused"] == data["sent"] == 20 and data["events"]["delivered"] == 0
    assert main([*argv, "--no-gates"]) == 0  # the opt-out


def test_events_add_up_for_batches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("sendgrid") as rx:
        report = tmp_path / "r.json"
        creds = rx.credentials
        assert creds.signing_key and creds.token_url and creds.client_id and creds.client_secret
        argv = ["load", "sendgrid", rx.url, "--signing-key", creds.signing_key, "--token-url", creds.token_url]
        argv += ["--client-id", creds.client_id, "--client-secret", creds.client_secret, "--rate", "200"]
        assert main([*argv, "--duration", "1s", "--duplicates", "0.05", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    events = data["events"]
    ended = sum(events[name] for name in ("delivered", "refused", "lost", "dropped", "trimmed"))
    assert events["scheduled"] == ended
    assert data["details"]["resends"] >= 1  # --duplicates 0.05 of a handful of batches still resends one
    assert events["delivered"] >= 200


def test_sendgrid_batches_stay_under_its_byte_cap() -> None:
    from harness.load import open_schedule
    from harness.load.source import DeliverySource

    sendgrid = CATALOG.get("sendgrid")
    schedule = open_schedule(sendgrid, rate=400, duration=30, seed=3)
    creds = Credentials(signing_key=None)
    source = DeliverySource(sendgrid, creds, schedule.unit_sizes, seed=3)
    largest = sorted(range(schedule.units_count), key=lambda u: -schedule.unit_sizes[u])[:3]
    for unit in largest:
        body = source.base(unit).body
        assert len(body) <= 786_432, (schedule.unit_sizes[unit], len(body))
    assert max(schedule.unit_sizes) > 100  # real batches, not one event each (signing adds headers, not bytes)


@pytest.mark.parametrize(
    "extra",
    [["--rate", "nan"], ["--rate", "inf"], ["--duplicates", "nan"], ["--after-outage", "1h", "--time-scale", "nan"]],
)
def test_non_finite_load_numbers_are_one_line(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "stripe", "http://127.0.0.1:9/", "--secret", "whsec_" + "s" * 20, *extra])
    err = capsys.readouterr().err
    assert code == 2 and "finite" in err and len(err.strip().splitlines()) == 1


def test_time_scale_zero_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", "stripe", "http://127.0.0.1:9/", "--secret", "whsec_" + "s" * 20, "--after-outage", "1h"]
    assert main([*argv, "--time-scale", "0"]) == 2
    assert "--time-scale must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0"])
def test_send_timeout_must_be_a_positive_finite_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["send", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, "--timeout", value])
    except SystemExit as exited:  # an argparse type, or the settings table's parser: either way one line, exit 2
        code = exited.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2 and "--timeout" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("returncode", "requests", "failures", "code"),
    [(0, 0, 0, 1), (0, 10, 10, 1), (0, 100, 2, 1), (0, 1000, 5, 0), (1, 100, 0, 1)],
)
def test_the_locust_verdict_fails_when_nothing_succeeded_or_failures_pass_the_gate(
    returncode: int, requests: int, failures: int, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli._load import _locust_verdict

    assert _locust_verdict(returncode, requests, failures, 1.0) == code


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_sender_processes_die_with_their_parent(receiver: ReferenceReceiver, sig: signal.Signals) -> None:
    argv = ["load", "shopify", receiver.url, "--secret", "right-secret-0123456789", "--rate", "20", "--duration", "60s"]
    parent = subprocess.Popen(
        [sys.executable, "-m", "harness", *argv, "--processes", "2", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    senders: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(senders) < 2:
            senders = [p for p in _children(parent.pid) if "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()]
            time.sleep(0.2)
        assert len(senders) >= 2
        parent.send_signal(sig)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in senders):
            time.sleep(0.1)
        assert not any(_alive(p) for p in senders)
    finally:
        for pid in [parent.pid, *senders]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        parent.wait(10)


def test_ctrl_c_on_load_prints_the_partial_summary_and_writes_the_report(
    receiver: ReferenceReceiver, tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    argv = ["load", "shopify", receiver.url, "--secret", "right-secret-0123456789", "--rate", "20", "--duration", "60s"]
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", *argv, "--report", str(report), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not stored_any(receiver):
            time.sleep(0.2)
        time.sleep(0.5)  # a few more deliveries
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "INTERRUPTED" in out and "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and 0 < data["sent"] < 1200


def stored_any(rx: ReferenceReceiver) -> bool:
    from tests.load._helpers import stored

    return stored(rx) > 0


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--servers", "3"], "--servers shapes batches"), (["--locust", "--servers", "3"], "--servers")],
)
def test_an_option_that_would_not_take_effect_is_refused(
    extra: list[str], needle: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli import _load

    monkeypatch.setattr(_load, "_locust_installed", lambda: True)
    assert main(["load", "github", "http://127.0.0.1:9/", "--secret", "s" * 20, *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_a_batch_planned_over_the_cap_is_cut_to_fit_and_the_cut_counted() -> None:
    from array import array

    from harness.load.source import DeliverySource
    from harness.load.stats import LoadStats

    sendgrid = CATALOG.get("sendgrid")
    source = DeliverySource(sendgrid, Credentials(), array("l", [5000]), seed=1)  # ~3.7 MB if sent whole
    delivery = source.base(0)
    assert len(delivery.body) <= 786_432 and 0 < len(delivery.event_types) < 5000
    stats = LoadStats()
    stats.trimmed(5000 - len(delivery.event_types))
    stats.finished(0.0, 0.01, 200, None, len(delivery.event_types))
    assert stats.events["delivered"] + stats.events["trimmed"] == 5000


def test_locust_totals_are_read_from_its_csv(tmp_path: Path) -> None:
    from harness.cli._load import _locust_totals

    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time\nPOST,/hook,12,3,5\n,Aggregated,12,3,5\n",
        encoding="utf-8",
    )
    assert _locust_totals(stats) == (12, 3)
    assert _locust_totals(tmp_path / "missing.csv") == (0, 0)  # no file: nothing completed, which fails the run
