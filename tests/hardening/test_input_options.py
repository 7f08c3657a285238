"""Hostile command-line values: each is refused where it enters, with one line and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from harness.cli import main


def _exit_2_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(argv))
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert info.value.code == 2 and captured.out == "" and len(lines) == 1, captured
    assert "Traceback" not in captured.err and lines[0].startswith("webhook-harness")
    return lines[0]


URL = "http://127.0.0.1:9/hook"  # never contacted: every case fails while parsing


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "-1", "0", "abc"])
def test_check_timeout_must_be_a_finite_positive_duration(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _exit_2_one_line(["check", "stripe", URL, "--secret", "whsec_x", f"--timeout={value}"], capsys)
    assert "--timeout" in line


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:99999/hook", "Port out of range"),
        ("http://[::1/x", "IPv6"),
        ("http://127.0.0.1:0/hook", "port 0"),
        ("ftp://127.0.0.1/hook", "http://"),
        ("http:///nohost", "http://"),
    ],
)
def test_check_url_is_checked_before_use(url: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert says in _exit_2_one_line(["check", "stripe", url, "--secret", "whsec_x"], capsys)


def test_receiver_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert "65535" in _exit_2_one_line(["receiver", "stripe", "--port", "70000"], capsys)


@pytest.mark.parametrize(
    "option",
    [
        ["--outage", "1h..inf"],
        ["--outage", "1h..nan"],
        ["--outage", "1h..99999999999d"],
        ["--delays", "nan"],
        ["--delays", "1m,inf"],
        ["--factor", "inf"],
        ["--factor", "nan"],
        ["--spread", "nan"],
        ["--spread", "inf"],
        ["--window", "nan"],
        ["--window", "99999999999d"],
        ["--max-delay", "inf"],
        ["--jitter", "nan"],
        ["--jitter", "1.5"],
        ["--time-scale", "inf"],
        ["--max-time", "nan"],
        ["--events", "1000000001"],  # one over the dry run's cap (harness.simulate.engine.MAX_EVENTS)
        ["--events", "-5"],
        ["--concurrency", "1000000000"],
        ["--concurrency", "0"],
    ],
)
def test_simulate_numbers_are_bounded(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    line = _exit_2_one_line(["simulate", "stripe", "--dry-run", *option], capsys)
    assert option[0] in line


def test_simulate_accepts_compound_durations_and_none(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "stripe", "--dry-run", "--events", "5", "--quiet", "--spread", "1h30m"]
    assert main([*argv, "--delays", "1m,2h30m", "--window", "none", "--outage", "0s..1h30m"]) == 0
    assert "lost" in capsys.readouterr().out


def test_cli_and_simulator_agree_on_the_longest_span() -> None:
    from harness.core.settings_table import MAX_SPAN
    from harness.simulate.outages import MAX_SPAN as SIMULATOR_SPAN

    assert MAX_SPAN == SIMULATOR_SPAN
