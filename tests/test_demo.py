"""`make demo`, the main job: a clean check run that passes and a buggy one that is caught; exit 0."""

from __future__ import annotations

import pytest

from harness.demo import main


def test_demo_behaves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main() == 0
    out = capsys.readouterr().out
    assert "sendgrid" in out and "single-effect              FAILED" in out
    assert out.count("exit code 0") == 1 and out.count("exit code 1") == 1
    assert "Demo behaved as expected" in out
