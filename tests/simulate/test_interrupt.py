"""Ctrl-C during `simulate` prints and writes the partial results, then exits 130 (issue 16)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening._peers import silent_server


@pytest.fixture
def silent_receiver() -> Iterator[tuple[str, threading.Event]]:
    with silent_server() as pair:
        yield pair


def test_ctrl_c_keeps_the_partial_results(silent_receiver: tuple[str, threading.Event], tmp_path: Path) -> None:
    url, arrived = silent_receiver
    report, timeline = tmp_path / "r.json", tmp_path / "t.html"
    argv = ["simulate", "github", url, "--secret", "abcdef", "--events", "50", "--spread", "1m", "--quiet"]
    script = "import sys; from harness.cli import run; sys.argv[0] = 'webhook-harness'; run()"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *argv, "--report", str(report), "--timeline", str(timeline)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert arrived.wait(timeout=60), "no delivery reached the receiver"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == 130, out + err
    assert "interrupted: partial results" in out and "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["exit_code"] == 130
    assert timeline.read_text().startswith("<!doctype html>")
