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
    (replay,) = [line for line in out.splitlines() if line.startswith("Replay with: ")]
    for kept in ("--seed 2026", "--max-examples 15", "--token-url http://127.0.0.1:", "--client-id ", "--probe-url"):
        assert kept in replay, replay  # the line reproduces the run (secrets stay in their variables)


def test_make_demo_installs_the_package_without_the_test_toolchain() -> None:
    import re
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    prerequisites = re.search(r"^demo:(.*)$", makefile, re.MULTILINE)
    assert prerequisites is not None and prerequisites.group(1).split() == ["$(DEMO_STAMP)"]
    recipe = re.search(r"^\$\(DEMO_STAMP\):.*\n((?:\t.*\n|.*\\\n)+)", makefile, re.MULTILINE)
    assert recipe is not None and re.search(r"pip install( --[a-z-]+)* -e \. ", recipe.group(1))
    assert "[test]" not in recipe.group(1)
