"""`webhook-harness init`: a commented starter file that validates and is read by the resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.config import load_config
from harness.settings import resolve_run_config


@pytest.mark.parametrize("provider", sorted(load_catalog().providers))
def test_starter_file_validates_for_every_provider(provider: str, tmp_path: Path) -> None:
    path = tmp_path / "webhook-harness.toml"
    assert main(["init", provider, "--out", str(path)]) == 0
    config = load_config(path)
    assert config["provider"] == provider
    resolved = resolve_run_config({"url": "http://127.0.0.1:9/x"}, config=config, env={})
    assert resolved.provider == provider


def test_init_keeps_an_existing_file_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "webhook-harness.toml"
    path.write_text("# mine\n")
    assert main(["init", "github", "--out", str(path)]) == 2
    assert path.read_text() == "# mine\n" and "--force" in capsys.readouterr().err
    assert main(["init", "github", "--out", str(path), "--force"]) == 0
    assert 'provider = "github"' in path.read_text()
