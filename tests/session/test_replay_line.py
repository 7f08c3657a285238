"""The "Replay with:" line reproduces the run: every setting given at other than its default, and no secret."""

from __future__ import annotations

import shlex
from pathlib import Path

from harness.cli import build_parser
from harness.cli._options import options_from_args
from harness.report import replay_command
from harness.settings.resolve import resolve_run_config

ENV = {"WEBHOOK_HARNESS_CLIENT_SECRET": "client-secret-value", "WEBHOOK_HARNESS_SETTLE_TIMEOUT": "2s"}


def _resolve(argv: list[str], config_path: str | None = None) -> object:
    args = build_parser().parse_args(argv)
    options = options_from_args(args, "check")
    return resolve_run_config(options, config={}, env=ENV, config_path=config_path)


def test_the_replay_line_of_an_oauth_run_with_max_examples_reproduces_it() -> None:
    argv = ["check", "sendgrid", "http://127.0.0.1:8080/hook", "--token-url", "http://127.0.0.1:8080/token"]
    argv += ["--client-id", "demo-client", "--max-examples", "15", "--seed", "2026", "--timeout", "10s"]
    argv += ["--probe-url", "http://127.0.0.1:8080/probe/{event_id}", "--warn", "responds-in-time", "--strict"]
    argv += ["--header", "X-Tenant: blue", "--header", "X-Api-Key: gateway-secret", "--signing-key", "key.pem"]
    config = _resolve(argv)
    line = replay_command(config)  # type: ignore[arg-type]
    for expected in ("--token-url", "demo-client", "--max-examples 15", "--seed 2026", "--timeout 10", "--strict"):
        assert expected in line, line
    assert "--settle-timeout 2" in line  # an environment variable is part of the run too
    assert "--warn responds-in-time" in line and "'X-Tenant: blue'" in line
    for secret in ("client-secret-value", "gateway-secret", "key.pem"):
        assert secret not in line
    again = _resolve(shlex.split(line)[1:])
    assert again.non_default() == {  # type: ignore[attr-defined]
        k: v
        for k, v in config.non_default().items()  # type: ignore[attr-defined]
        if k != "headers"
    } | {"headers": (("X-Tenant", "blue"),)}


def test_settings_from_the_config_file_travel_as_the_file(tmp_path: Path) -> None:
    path = tmp_path / "webhook-harness.toml"
    path.write_text('provider = "github"\nurl = "http://127.0.0.1:9/hook"\nmax_examples = 7\n')
    args = build_parser().parse_args(["check"])
    config = resolve_run_config(options_from_args(args, "check"), config_path=str(path), env={})
    line = replay_command(config)
    assert f"--config {path}" in line and "--max-examples" not in line and "check github" in line
