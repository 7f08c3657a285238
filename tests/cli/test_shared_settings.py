"""send, replay, load, check and simulate take the same settings, parsed alike, from options, environment or file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import build_parser, main
from harness.cli._options import options_from_args
from harness.recording import Record
from harness.settings.resolve import resolve_run_config
from harness.volume import VolumeGenerator
from tests.hardening._peers import Peer, raw_server, respond

SENDERS = ("check", "send", "replay", "load", "simulate")
CONFIG = """\
secret = "per-command-secret"
timeout = "10s"
[headers]
X-Gateway = "from-the-config-file"
"""


@pytest.fixture
def receiver() -> Iterator[Peer]:
    with raw_server(respond("200 OK", b"ok", {"Content-Type": "text/plain"})) as peer:
        yield peer


def _argv(command: str, url: str, tmp_path: Path) -> list[str]:
    if command == "replay":
        delivery = next(VolumeGenerator(load_catalog().get("github"), seed=1).deliveries(1, "push"))
        record = Record("POST", "/hook", dict(delivery.headers), delivery.body, provider="github", verified=True)
        recording = tmp_path / "recorded.jsonl"
        recording.write_text(json.dumps(record.to_json()) + "\n")
        return ["replay", str(recording), url]
    extra = {
        "check": ["--check", "accepts-valid", "--max-examples", "1", "--quiet"],
        "send": ["--event", "push"],
        "load": ["--rate", "3", "--duration", "1s", "--quiet"],
        "simulate": ["--events", "2", "--spread", "1s", "--quiet"],
    }[command]
    return [command, "github", url, *extra]


@pytest.mark.parametrize("command", SENDERS)
def test_config_file_keys_apply_to_every_command_that_sends(
    command: str, receiver: Peer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's secret signs, its timeout parses as a duration, and its gateway header goes on every request."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "webhook-harness.toml").write_text(CONFIG)
    for name in ("WEBHOOK_HARNESS_SECRET", "WEBHOOK_HARNESS_TIMEOUT", "WEBHOOK_HARNESS_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    assert main(_argv(command, receiver.url + "/hook", tmp_path)) == 0
    posts = [r for r in receiver.requests if r.startswith(b"POST")]
    assert posts, f"{command} sent nothing"
    for request in posts:
        head = request.split(b"\r\n\r\n", 1)[0].lower()
        assert b"\r\nx-gateway: from-the-config-file" in head, command
        assert b"\r\nx-hub-signature-256: sha256=" in head, command


@pytest.mark.parametrize("command", SENDERS)
@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "1e300", "soon"])
def test_a_bad_timeout_is_one_line_exit_2_for_every_command(
    command: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(command, "http://127.0.0.1:9/hook", tmp_path)
    assert main([*argv, "--secret", "s3cret-value", f"--timeout={value}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--timeout" in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", SENDERS)
@pytest.mark.parametrize(("text", "seconds"), [("10s", 10.0), ("1.5", 1.5), ("2m", 120.0), ("1m30s", 90.0)])
def test_every_command_reads_durations_and_network_options_alike(
    command: str, text: str, seconds: float, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read until a TLS connection is made")
    argv = [*_argv(command, "http://127.0.0.1:9/hook", tmp_path), "--ca-bundle", str(bundle)]
    argv += ["--proxy", "http://127.0.0.1:3128", "--header", "X-Api-Key: gateway", "--trust-env"]
    argv += ["--timeout", text]
    args = build_parser().parse_args(argv)
    config = resolve_run_config(options_from_args(args, command), config={}, env={}, require_target=False)
    assert config.network.ca_bundle == str(bundle) and config.network.proxy == "http://127.0.0.1:3128"
    assert config.network.headers == (("X-Api-Key", "gateway"),) and config.network.trust_env
    assert config.timeout == seconds
    env = {"WEBHOOK_HARNESS_TIMEOUT": text, "WEBHOOK_HARNESS_PROXY": "http://127.0.0.1:8080"}
    from_env = resolve_run_config({}, config={}, env=env, require_target=False)
    assert from_env.timeout == seconds and from_env.network.proxy == "http://127.0.0.1:8080"


def test_send_takes_a_duration_timeout(receiver: Peer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "github", receiver.url + "/hook", "--secret", "s3cret-value", "--timeout", "10s"]) == 0
    assert "HTTP 200" in capsys.readouterr().out


def test_send_without_credentials_refuses_naming_the_option_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBHOOK_HARNESS_SECRET", raising=False)
    assert main(["send", "github", "http://127.0.0.1:9/hook"]) == 2
    err = capsys.readouterr().err
    assert "--secret" in err and "WEBHOOK_HARNESS_SECRET" in err and len(err.strip().splitlines()) == 1
