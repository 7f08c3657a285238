"""Every sender signs Square's notification URL as it posts: load, simulate and Locust against the reference
receiver, which refuses a signature over any other URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.credentials import Credentials
from harness.receiver import ReferenceReceiver
from tests.load._helpers import stored

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sq-signature-key-Lq81xZ"
TIMEOUT = 120  # seconds the Locust process may live


def test_load_signs_the_target_url(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET)) as rx:
        argv = ["load", "square", rx.url, "--secret", SECRET, "--rate", "20", "--duration", "1s", "--settle", "0s"]
        assert main([*argv, "--max-error-rate", "0%", "--seed", "2", "--report", str(report)]) == 0
        data = json.loads(report.read_text())
        assert data["sent"] > 10 and data["status_counts"] == {"200": data["sent"]}
        assert stored(rx) == data["sent"]


def test_simulate_signs_the_target_url(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET)) as rx:
        argv = ["simulate", "square", rx.url, f"--secret={SECRET}", "--probe-url", rx.probe_url, "--quiet"]
        assert main([*argv, "--events", "20", "--spread", "1h"]) == 0
    assert "probe: 20 events checked, all stored exactly once" in capsys.readouterr().out
    assert main(["simulate", "square", "--dry-run", "--events", "50", "--quiet"]) == 0  # no URL, nothing signed


def test_locust_signs_host_plus_path(tmp_path: Path) -> None:
    prefix = tmp_path / "run"
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET)) as rx:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_HARNESS_")}
        env.update(
            WEBHOOK_HARNESS_PROVIDER="square",
            WEBHOOK_HARNESS_PATH=rx.url.removeprefix(rx.base_url),
            WEBHOOK_HARNESS_SECRET=SECRET,
            WEBHOOK_HARNESS_USER_RATE="5",
        )
        command = [sys.executable, "-m", "locust", "-f", str(ROOT / "examples" / "locust" / "locustfile.py")]
        command += ["--headless", "-u", "1", "-r", "1", "--run-time", "2s", "--stop-timeout", "10"]
        command += ["--host", rx.base_url, "--json-file", str(prefix), "--only-summary"]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        rows = json.loads(Path(f"{prefix}.json").read_text())
        requests = sum(int(row["num_requests"]) for row in rows)
        assert requests >= 3 and sum(int(row["num_failures"]) for row in rows) == 0
        assert stored(rx) == requests
