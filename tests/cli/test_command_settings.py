"""Each command's own options come from the settings table: option > environment > config file > default, one parser."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.cli._options import resolve_command_options
from harness.errors import UsageError


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without a config file, and no WEBHOOK_HARNESS_* variable set."""
    import os

    for name in list(os.environ):
        if name.startswith("WEBHOOK_HARNESS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _resolved(argv: list[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    resolve_command_options(args)
    return args


LOAD = ["load", "stripe", "http://127.0.0.1:9/"]
SIMULATE = ["simulate", "stripe", "--dry-run"]


def test_defaults_are_the_tables_typed_values(workdir: Path) -> None:
    args = _resolved(LOAD)
    assert (args.rate, args.duration, args.settle, args.event, args.quiet) == (10.0, 30.0, 2.0, (), False)
    args = _resolved(SIMULATE)
    assert (args.spread, args.max_time, args.concurrency, args.delays) == (86400.0, 600.0, 64, None)
    assert _resolved(["replay", "a.jsonl", "http://127.0.0.1:9/"]).order == "original"
    assert _resolved(["receiver", "stripe"]).port == 0 and _resolved(["record", "stripe"]).port == 8787


@pytest.mark.parametrize(
    ("argv", "name", "variable", "config", "option", "expected"),
    [
        (LOAD, "rate", ("WEBHOOK_HARNESS_LOAD_RATE", "20"), "[load]\nrate = 30\n", ["--rate", "40"], (10, 30, 20, 40)),
        (
            LOAD,
            "settle",
            ("WEBHOOK_HARNESS_LOAD_SETTLE", "3s"),
            '[load]\nsettle = "1m"\n',
            ["--settle", "0s"],
            (2, 60, 3, 0),
        ),
        (
            ["replay", "a.jsonl", "http://127.0.0.1:9/"],
            "order",
            ("WEBHOOK_HARNESS_REPLAY_ORDER", "reverse"),
            '[replay]\norder = "shuffle"\n',
            ["--order", "original"],
            ("original", "shuffle", "reverse", "original"),
        ),
        (
            SIMULATE,
            "spread",
            ("WEBHOOK_HARNESS_SIMULATE_SPREAD", "2h"),
            '[simulate]\nspread = "1h"\n',
            ["--spread", "30m"],
            (86400, 3600, 7200, 1800),
        ),
        (
            ["sequences", "stripe", "http://127.0.0.1:9/"],
            "max_examples",
            ("WEBHOOK_HARNESS_SEQUENCES_MAX_EXAMPLES", "7"),
            "[sequences]\nmax_examples = 9\n",
            ["--max-examples", "3"],
            (50, 9, 7, 3),
        ),
        (
            ["record", "stripe"],
            "port",
            ("WEBHOOK_HARNESS_RECORD_PORT", "9000"),
            "[record]\nport = 9001\n",
            ["--port", "0"],
            (8787, 9001, 9000, 0),
        ),
        (
            ["receiver", "stripe"],
            "mode",
            ("WEBHOOK_HARNESS_RECEIVER_MODE", "lenient"),
            '[receiver]\nmode = "queue-first"\n',
            ["--mode", "strict"],
            ("strict", "queue-first", "lenient", "strict"),
        ),
        (
            ["generate", "stripe"],
            "count",
            ("WEBHOOK_HARNESS_GENERATE_COUNT", "4"),
            "[generate]\ncount = 5\n",
            ["-n", "6"],
            (1, 5, 4, 6),
        ),
        (
            ["drift", "stripe", "a.jsonl"],
            "strict",
            ("WEBHOOK_HARNESS_DRIFT_STRICT", "false"),
            "[drift]\nstrict = true\n",
            ["--strict"],
            (False, True, False, True),
        ),
        (
            ["send", "stripe", "http://127.0.0.1:9/"],
            "event",
            ("WEBHOOK_HARNESS_SEND_EVENT", "charge.failed"),
            '[send]\nevent = "invoice.paid"\n',
            ["--event", "charge.succeeded"],
            (None, "invoice.paid", "charge.failed", "charge.succeeded"),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isidentifier() else None,
)
def test_option_beats_environment_beats_config_file_beats_default(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    name: str,
    variable: tuple[str, str],
    config: str,
    option: list[str],
    expected: tuple[object, ...],
) -> None:
    default = getattr(_resolved(argv), name)
    (workdir / "webhook-harness.toml").write_text(config, encoding="utf-8")
    from_file = getattr(_resolved(argv), name)
    monkeypatch.setenv(*variable)
    from_env = getattr(_resolved(argv), name)
    from_option = getattr(_resolved([*argv, *option]), name)
    assert (default, from_file, from_env, from_option) == expected


@pytest.mark.parametrize(
    ("argv", "variable", "needle"),
    [
        (LOAD, ("WEBHOOK_HARNESS_LOAD_RATE", "nan"), "WEBHOOK_HARNESS_LOAD_RATE 'nan': must be a finite number"),
        (
            LOAD,
            ("WEBHOOK_HARNESS_LOAD_DURATION", "0s"),
            "WEBHOOK_HARNESS_LOAD_DURATION '0s': must be a positive duration",
        ),
        (SIMULATE, ("WEBHOOK_HARNESS_SIMULATE_JITTER", "1.5"), "WEBHOOK_HARNESS_SIMULATE_JITTER '1.5'"),
        (SIMULATE, ("WEBHOOK_HARNESS_SIMULATE_DELAYS", "1m,soon"), "WEBHOOK_HARNESS_SIMULATE_DELAYS entry"),
        (["receiver", "stripe"], ("WEBHOOK_HARNESS_RECEIVER_PORT", "70000"), "from 0 to 65535"),
        (["generate", "stripe"], ("WEBHOOK_HARNESS_GENERATE_FORMAT", "xml"), "use jsonl or record or http"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], variable: tuple[str, str], needle: str
) -> None:
    monkeypatch.setenv(*variable)
    with pytest.raises(UsageError, match="Invalid") as info:
        _resolved(argv)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_bad_config_value_names_the_file_and_its_table(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "webhook-harness.toml").write_text('[load]\nduration = "soon"\n', encoding="utf-8")
    assert main([*LOAD, "--secret", "whsec_" + "s" * 20]) == 2
    err = capsys.readouterr().err
    assert "duration (from" in err and "[load])" in err and len(err.strip().splitlines()) == 1


def test_an_unknown_key_in_a_commands_table_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "webhook-harness.toml").write_text("[load]\nspeed = 3\n", encoding="utf-8")
    assert main([*LOAD, "--secret", "whsec_" + "s" * 20]) == 2
    assert "speed" in capsys.readouterr().err


def test_a_required_option_may_come_from_its_variable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["import", "openapi", "spec.yaml", "--out", "catalog"]
    with pytest.raises(UsageError, match=r"--id is required \(or WEBHOOK_HARNESS_IMPORT_ID\)"):
        _resolved(argv)
    monkeypatch.setenv("WEBHOOK_HARNESS_IMPORT_ID", "acme")
    assert _resolved(argv).id == "acme"
    with pytest.raises(UsageError, match="--consumer is required"):
        _resolved(["pact", "export", "stripe", "--out", "pacts"])


def test_exclusive_options_stay_exclusive_across_sources(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_HARNESS_GENERATE_INVALID", "true")
    assert _resolved(["generate", "stripe"]).invalid is True
    with pytest.raises(UsageError, match="--invalid and --novel do not go together"):
        _resolved(["generate", "stripe", "--novel"])


def test_commands_without_a_config_file_never_read_one(workdir: Path) -> None:
    (workdir / "webhook-harness.toml").write_text("this is not toml [", encoding="utf-8")
    assert _resolved(["init", "stripe"]).out == "webhook-harness.toml"
    assert _resolved(["keygen", "sendgrid"]).force is False
