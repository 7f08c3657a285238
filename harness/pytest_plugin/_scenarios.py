"""Scenario files as parametrized tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["scenario_params"]


def scenario_params(directory: str | Path) -> list[Any]:
    """One ``pytest.param`` per ``*.toml`` scenario in ``directory``, with the file's stem as its id."""
    folder = Path(directory)
    if not folder.is_dir():
        raise pytest.UsageError(f"webhook-harness: scenario folder {folder} does not exist.")
    return [pytest.param(path, id=path.stem) for path in sorted(folder.glob("*.toml"))]
