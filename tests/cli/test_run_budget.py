"""A silent receiver cannot hold a run past its budget, and Ctrl-C keeps the results so far (issue 16)."""

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

from harness.cli import main
from tests.hardening._peers import silent_server


@pytest.fixture
def silent_receiver() -> Iterator[str]:
    with silent_server() as (url, _):
        yield url


def test_the_run_budget_ends_a_run_against_a_silent_receiver(
    silent_receiver: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    started = time.monotonic()
    argv = ["check", "github", silent_receiver, "--secret", "abcdef", "--timeout", "1", "--max-time", "3s"]
    code = main([*argv, "--report", str(report)])
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1 and elapsed < 30
    assert "BLOCKED" in out and "run budget" in out
    statuses = {c["id"]: c["status"] for c in json.loads(report.read_text())["checks"]}
    assert statuses["accepts-valid"] == "failed" and "blocked" in statuses.values()


def test_ctrl_c_prints_and_writes_the_partial_results_then_exits_130(silent_receiver: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    argv = ["check", "github", silent_receiver, "--secret", "abcdef", "--timeout", "20", "--report", str(report)]
    script = 'import sys; from harness.cli import run; sys.argv[0] = "webhook-harness"; run()'
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        header = proc.stdout.readline()  # the run has started once its header is out
        assert "webhook-harness check: github" in header
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["exit_code"] == 130
