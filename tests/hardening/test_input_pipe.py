"""A closed stdout (``check ... --report r.json | head -1``) keeps the real exit code and still writes the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.receiver import ReferenceReceiver


def test_closed_stdout_keeps_exit_code_and_report(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with ReferenceReceiver("stripe", bug="parse-before-verify") as rx:
        argv = [sys.executable, "-m", "harness", "check", "stripe", rx.url, "--probe-url", rx.probe_url]
        argv += ["--check", "rejects-malformed", "--check", "accepts-valid", "--report", str(report), "--seed", "1"]
        env = {"WEBHOOK_HARNESS_SECRET": rx.credentials.secret or "", "PATH": "/usr/bin:/bin"}
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            assert proc.stdout is not None and proc.stderr is not None
            first = proc.stdout.readline()  # what `head -1` reads; then the reader goes away
            proc.stdout.close()
            code = proc.wait(timeout=120)
            err = proc.stderr.read().decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert first.startswith(b"webhook-harness check: stripe")
    assert code == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["exit_code"] == 1
    outcomes = {o["id"]: o["status"] for o in data["checks"]}
    assert outcomes["rejects-malformed"] == "failed"
