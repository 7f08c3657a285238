"""A provider whose signing is a given declarative description: github's profile copied, scheme replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from harness.catalog import Provider, load_catalog


def provider_with(tmp_path: Path, description: dict[str, Any], tolerance: str | None = None) -> Provider:
    """The github provider copied, with its scheme replaced by a description (as a user's --schemas folder).

    Only github's common events are kept, each with its real samples and an open object schema: a user's folder is
    checked in full when it loads, and github's 259 schemas over a 1.8 MB definitions file take seconds to check,
    while what these tests prove is the signing description alone.
    """
    source = load_catalog().get("github").root
    folder = tmp_path / "github"
    (folder / "events").mkdir(parents=True)
    (folder / "samples").mkdir()
    profile = json.loads((source / "profile.json").read_text())
    kept = {}
    for name in profile["sampling"]["common"]:
        entry = dict(profile["events"][name])
        schema = f"events/{Path(entry['schema']).name}"
        (folder / schema).write_text(
            json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
        )
        for sample in entry["samples"]:
            shutil.copyfile(source / sample, folder / sample)
        kept[name] = {**entry, "schema": schema}
    profile["events"] = kept
    profile.pop("lifecycles", None)  # its steps name events cut here
    profile["auth"] = {"schemes": ["custom"], "tolerance": tolerance, "hmac": {"custom": description}}
    (folder / "profile.json").write_text(json.dumps(profile))
    return load_catalog(tmp_path).get("github")
