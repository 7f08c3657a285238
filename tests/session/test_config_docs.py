"""docs/config.md documents every key the config file's schema accepts."""

from __future__ import annotations

from pathlib import Path

from harness.settings.file import known_keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_every_config_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [key for key in known_keys() if f"| `{key}` |" not in text]
    assert not missing, f"docs/config.md lacks: {missing}"


def test_the_generated_parts_of_docs_and_schema_are_current() -> None:
    import runpy

    root = Path(__file__).resolve().parents[2]
    module = runpy.run_path(str(root / "scripts" / "gen_config_docs.py"))
    assert DOC.read_text(encoding="utf-8") == module["render"](DOC.read_text(encoding="utf-8")), (
        "docs/config.md is stale: run python scripts/gen_config_docs.py"
    )
    from harness.settings.file import CONFIG_SCHEMA_PATH, schema_text

    assert CONFIG_SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "harness/settings/config.schema.json is stale: run python scripts/gen_config_docs.py"
    )


def test_every_setting_is_one_entry_that_every_front_end_derives() -> None:
    """The CLI, the pytest plugin, the config schema and the environment all read the table's names."""
    import argparse

    from harness.cli import build_parser
    from harness.core.settings_table import SETTINGS, for_command
    from harness.settings.file import known_keys

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for setting in SETTINGS:
        for command in setting.commands:
            options = {o for a in sub.choices[command]._actions for o in a.option_strings}
            assert setting.option in options, (command, setting.option)
        if setting.config:
            assert setting.name in known_keys()
        assert setting.env_var == "WEBHOOK_HARNESS_" + setting.name.upper()
    assert {s.name for s in for_command("send")} >= {"timeout", "ca_bundle", "proxy", "headers", "seed", "secret"}
    from harness.core.settings_table import for_pytest

    network = {"--webhook-insecure", "--webhook-trust-env", "--webhook-ca-bundle", "--webhook-proxy"}
    network |= {"--webhook-header", "--webhook-client-cert"}
    assert {s.pytest_option for s in for_pytest()} >= network
