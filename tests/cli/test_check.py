"""`check` usage and configuration errors: exit 2, one line on stderr, nothing on stdout, no traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main


@pytest.fixture
def listening() -> Iterator[str]:
    """A loopback port that accepts connections (enough for the reachability check), closed afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _exit_2_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(argv))
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert info.value.code == 2 and captured.out == "" and len(lines) == 1, captured
    assert "Traceback" not in captured.err and lines[0].startswith("webhook-harness")
    return lines[0]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["--seed", "abc"], "--seed"),
        (["--max-examples", "-3"], "--max-examples"),
        (["--exclude-check", "nope"], "Unknown check 'nope'"),
        (["--probe-db", "sqlite://"], "--probe-db and --probe-sql go together"),
    ],
)
def test_bad_options(extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert needle in _exit_2_one_line(["check", "github", "http://127.0.0.1:9/", "--secret=s3cr3t-x", *extra], capsys)


def test_missing_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert "URL" in _exit_2_one_line(["check", "github"], capsys)


def test_unknown_provider_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    line = _exit_2_one_line(["check", "paypal", "http://127.0.0.1:9/", "--secret=x"], capsys)
    assert "paypal" in line and "sendgrid" in line


def test_unreachable_receiver_hides_the_url_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://user:hunter2-x@127.0.0.1:{_closed_port()}/hook"
    line = _exit_2_one_line(["check", "github", url, "--secret=s3cr3t-x"], capsys)
    assert "Cannot reach the receiver" in line and "hunter2-x" not in line


def test_unwritable_report_fails_before_running(listening: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _exit_2_one_line(["check", "github", listening, "--secret=x", "--report", "/proc/no/report.json"], capsys)
    assert "Cannot write the report" in line


def test_report_path_that_is_a_folder(listening: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "Cannot write the report" in _exit_2_one_line(
        ["check", "github", listening, "--secret=x", "--report", str(tmp_path)], capsys
    )


def test_unreachable_token_endpoint_is_one_line_before_the_header(
    listening: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token_url = f"http://127.0.0.1:{_closed_port()}/oauth/token"
    argv = ["check", "sendgrid", listening, "--token-url", token_url, "--client-id", "c", "--client-secret=cs-x9"]
    line = _exit_2_one_line(argv, capsys)
    assert "token endpoint" in line and "cs-x9" not in line
