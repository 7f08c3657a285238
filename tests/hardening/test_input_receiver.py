"""The reference receiver as a network service, and as a process: bounded tokens and connections, no leftovers."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver
from harness.receiver._oauth import TokenIssuer


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_capped_and_expire() -> None:
    clock = _Clock()
    issuer = TokenIssuer("id", "secret", clock, lifetime=60.0, max_tokens=100)
    tokens = [issuer.issue() for _ in range(30_000)]
    assert issuer.live == 100  # 30,000 fetches keep 100 live tokens, not 30,000
    assert issuer.valid(tokens[-1]) and not issuer.valid(tokens[0])
    clock.now += 61.0
    assert not issuer.valid(tokens[-1])
    fresh = issuer.issue()
    assert issuer.live == 1 and issuer.valid(fresh)  # expired tokens are dropped on the next issue


def test_an_idle_connection_is_closed() -> None:
    with ReferenceReceiver("stripe", idle_timeout=0.3) as rx, socket.create_connection(("127.0.0.1", rx.port)) as s:
        s.settimeout(20.0)  # bounded: the server closes long before
        assert s.recv(1) == b""  # closed by the receiver without a request ever being sent


def test_out_of_file_descriptors_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    rx = ReferenceReceiver("stripe")
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.WARNING, logger="harness.receiver"):
            for _ in range(1000):
                rx.on_loop_error(loop, {"message": "accept failed", "exception": OSError(errno.EMFILE, "Too many")})
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            rx.on_loop_error(loop, {"message": "something else", "exception": ValueError("other")})
    finally:
        loop.close()
    ours = [r for r in caplog.records if r.name == "harness.receiver"]
    assert len(ours) == 1 and "file descriptors" in ours[0].getMessage()
    assert any(r.name == "asyncio" and "something else" in r.getMessage() for r in caplog.records)


@contextmanager
def _receiver_process(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`webhook-harness receiver ...` with its own temp folder; yields once the banner is out; always reaped."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    for name in ("WEBHOOK_HARNESS_SECRET", "WEBHOOK_HARNESS_SIGNING_KEY", "WEBHOOK_HARNESS_CLIENT_SECRET"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "receiver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for _ in range(40):  # the banner is a dozen lines; a bound in case the process dies early
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ctrl-C to stop"):
                break
        assert lines and lines[-1].startswith("Ctrl-C"), "".join(lines)
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("webhook-harness-"))


def test_sigterm_leaves_no_temp_folder_or_key(tmp_path: Path) -> None:
    with _receiver_process(tmp_path, "sendgrid") as (proc, _):
        assert any(name.startswith("webhook-harness-sendgrid-") for name in _leftovers(tmp_path))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert _leftovers(tmp_path) == []


@pytest.mark.postgres
def test_sigterm_drops_the_postgres_table(tmp_path: Path) -> None:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        before = set(inspect(engine).get_table_names())
        with _receiver_process(tmp_path, "stripe", "--db", url) as (proc, _):
            during = set(inspect(engine).get_table_names()) - before
            assert len(during) == 1
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        inspect_after = inspect(engine)
        assert not (set(inspect_after.get_table_names()) & during)
    finally:
        engine.dispose()


def test_banner_never_echoes_a_given_secret(tmp_path: Path) -> None:
    secret = "whsec_MyOwnVerySecretValue1234"
    with _receiver_process(tmp_path, "stripe", "--secret", secret) as (proc, lines):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = "".join(lines)
    assert secret not in text and "freshly" not in text
    assert "webhook-harness check stripe" in text


def test_oci_banner_shows_credentials_but_not_on_the_command_line(tmp_path: Path) -> None:
    with _receiver_process(tmp_path, "oci") as (proc, lines):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    export = next(line for line in lines if "export WEBHOOK_HARNESS_BASIC=" in line)
    password = export.strip().split("=", 1)[1].strip("'").split(":", 1)[1]
    command = next(line for line in lines if line.strip().startswith("then:"))
    assert password and password not in command and '--basic "$WEBHOOK_HARNESS_BASIC"' in command


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("mysql://user:pw@127.0.0.1/events", "SQLite or PostgreSQL"),
        ("postgresql+pg8000://user@127.0.0.1/events", "No database driver"),
        ("::::", "Invalid database URL"),
    ],
)
def test_receiver_db_without_a_driver_is_one_line(db: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["receiver", "stripe", "--db", db]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "pw" not in captured.err


def test_keygen_does_not_follow_a_dangling_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere" / "victim.pem"
    target.parent.mkdir()
    link = tmp_path / "key.pem"
    link.symlink_to(target)
    assert main(["keygen", "sendgrid", "--out", str(link)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert not target.exists() and link.is_symlink()
    assert main(["keygen", "sendgrid", "--out", str(link), "--force"]) == 0
    assert not target.exists() and not link.is_symlink() and link.stat().st_mode & 0o777 == 0o600
