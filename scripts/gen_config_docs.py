#!/usr/bin/env python3
"""Write the generated parts of docs/config.md and harness/settings/config.schema.json from the settings table."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.core.settings_table import markdown_table  # noqa: E402
from harness.settings.file import schema_text  # noqa: E402

DOC = ROOT / "docs" / "config.md"
SCHEMA = ROOT / "harness" / "settings" / "config.schema.json"
START = "<!-- generated from harness/core/settings_table.py: python scripts/gen_config_docs.py -->"
END = "<!-- end of generated table -->"


def render(text: str) -> str:
    """``text`` (docs/config.md) with its generated table replaced by the current one."""
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{markdown_table()}\n{END}{after}"


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    SCHEMA.write_text(schema_text(), encoding="utf-8")
    sys.stdout.write("docs/config.md and harness/settings/config.schema.json written\n")
