"""docs/config.md documents every key the config file's schema accepts."""

from __future__ import annotations

from pathlib import Path

from harness.config import known_keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_every_config_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [key for key in known_keys() if f"| `{key}` |" not in text]
    assert not missing, f"docs/config.md lacks: {missing}"
