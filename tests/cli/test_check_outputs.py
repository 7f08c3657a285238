"""`check` output: JUnit XML for a CI gate, the replay line, one rendering everywhere (issues 11, 15, 16)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver


def test_junitxml_names_items_like_the_plugin_and_keeps_secrets_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, report = tmp_path / "ci" / "junit.xml", tmp_path / "r.json"
    with ReferenceReceiver("github", bug="auth-optional") as rx:
        secret = rx.credentials.secret
        assert secret
        argv = ["check", "github", rx.url, f"--secret={secret}", "--max-examples", "3", "--seed", "9"]
        code = main([*argv, "--junitxml", str(junit), "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    text = junit.read_text()
    assert secret not in text
    cases = {case.get("name"): case for case in ET.fromstring(text).iter("testcase")}
    failure = cases["test_contract[github-rejects-missing-auth]"].find("failure")
    assert failure is not None and cases["test_contract[github-accepts-valid]"].find("failure") is None
    # The same finding text in the terminal, the JUnit XML and the JSON report.
    data = json.loads(report.read_text())
    entry = next(c for c in data["checks"] if c["id"] == "rejects-missing-auth")
    assert entry["text"] and entry["text"] in (failure.text or "")
    assert entry["text"].splitlines()[1] in out
    assert "Replay:   webhook-harness check github http://127.0.0.1:" in (failure.text or "")


def test_replay_line_goes_to_stdout_with_the_real_url_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("oci", bug="auth-optional") as rx:
        assert rx.credentials.basic
        user, password = rx.credentials.basic
        url = rx.url.replace("http://", f"http://{user}:{password}@")
        code = main(["check", "oci", url, "--max-examples", "3", "--seed", "4"])
    captured = capsys.readouterr()
    assert code == 1
    replay = [line for line in captured.out.splitlines() if line.startswith("Replay with: ")]
    # The user-info became Basic credentials; the replay line carries the URL, never the password.
    assert replay and f"check oci {rx.url} --seed 4" in replay[0]
    assert password not in captured.out + captured.err
