"""A provider whose signing is a given declarative description: the github catalog entry copied, scheme replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from harness.catalog import Provider, load_catalog


def provider_with(tmp_path: Path, description: dict[str, Any], tolerance: str | None = None) -> Provider:
    """The github provider copied, with its scheme replaced by a description (as a user's --schemas folder)."""
    folder = tmp_path / "github"
    shutil.copytree(load_catalog().get("github").root, folder)
    profile = json.loads((folder / "profile.json").read_text())
    profile["auth"] = {"schemes": ["custom"], "tolerance": tolerance, "hmac": {"custom": description}}
    (folder / "profile.json").write_text(json.dumps(profile))
    return load_catalog(tmp_path).get("github")
