"""What the shipped docs and catalog cite exists in the repository: no stale test paths, no files outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TEXT = [
    ROOT / "README.md",
    ROOT / "ARCHITECTURE.md",
    ROOT / "CONTRIBUTING.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "docs").rglob("*.yml")),
    *sorted((ROOT / "schemas").rglob("*.json")),
]
INSIDE_THE_WHEEL = {"harness/_catalog_data/schemas"}  # where the built wheel keeps the catalog
PATH = re.compile(r"`((?:tests|docs|harness|benchmarks|scenarios|examples|schemas)/[\w./-]*[\w])`")


@pytest.mark.parametrize("path", SHIPPED_TEXT, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_cites_files_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for outside in ("providers.md", "../shared", "/work/"):
        assert outside not in text, f"{path.name} cites {outside!r}, which users do not have"


@pytest.mark.parametrize("path", SHIPPED_TEXT, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_a_doc_names_exists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    named = set(PATH.findall(text)) - INSIDE_THE_WHEEL
    missing = sorted(p for p in named if "*" not in p and not (ROOT / p).exists())
    assert missing == [], f"{path.name} names paths that do not exist: {missing}"


def test_providers_details_prints_no_outside_citation(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["providers", "--details"]) == 0
    out = capsys.readouterr().out
    assert "assumption" in out and "providers.md" not in out


def test_send_documents_its_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    with pytest.raises(SystemExit):
        main(["send", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Exit 0: the receiver answered 2xx; 1:" in help_text and "2: usage or configuration error" in help_text
