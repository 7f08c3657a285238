"""`webhook-harness init`: a commented starter file that validates and is read by the resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.settings.file import load_config
from harness.settings.resolve import resolve_run_config


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


def test_check_after_init_takes_the_provider_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.hardening._peers import raw_server, respond

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBHOOK_HARNESS_SECRET", "s3cret-value")
    assert main(["init", "github"]) == 0
    with raw_server(respond("200 OK", b"ok")) as receiver:
        url = receiver.url + "/hook"
        assert main(["check", url, "--check", "accepts-valid", "--quiet"]) == 0  # no PROVIDER argument
        path = tmp_path / "webhook-harness.toml"
        path.write_text(path.read_text() + f'url = "{url}"\n')
        assert main(["check", "--check", "accepts-valid", "--quiet"]) == 0  # neither PROVIDER nor URL
    assert "check: github at" in capsys.readouterr().out
