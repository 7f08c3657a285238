"""scripts/refresh_catalog.py on small fixtures: the folder it writes loads, keeps the profile's delivery facts, records
the description's version, types data.object by its resource, and is byte-for-byte the same on a second run."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harness.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
GITHUB_EXCERPT = ROOT / "tests" / "importers" / "specs" / "github_official" / "api.github.com.excerpt.json"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_catalog", ROOT / "scripts" / "refresh_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _base(tmp_path: Path, provider: str, common: list[str]) -> Path:
    """The built-in profile as the base, its lifecycles and common types fitted to the fixture's few types."""
    profile = json.loads((ROOT / "schemas" / provider / "profile.json").read_text())
    profile.pop("lifecycles", None)
    profile["sampling"] = {**profile["sampling"], "common": common}
    path = tmp_path / "base" / provider / "profile.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(profile))
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refresh(tmp_path: Path, *args: str) -> tuple[int, dict[str, bytes]]:
    out = tmp_path / "out"
    code = _script().main([*args, "--out", str(out)])
    return code, _files(out / args[0]) if code == 0 else {}


def test_github_from_the_description_excerpt_keeps_the_delivery_facts_and_is_deterministic(tmp_path: Path) -> None:
    base = _base(tmp_path, "github", ["star.created"])
    args = ("github", "--from", str(GITHUB_EXCERPT), "--base", str(base), "--version", "0.0-fixture")
    code, first = _refresh(tmp_path, *args)
    assert code == 0
    provider = load_catalog(tmp_path / "out", cached=False).get("github")
    assert set(provider.events) == {"star.created", "star.deleted", "create"}
    assert provider.events["star.created"].headers == {"X-GitHub-Event": {"value": "star"}}  # the profile's spelling
    assert provider.event_type.action == "/action" and provider.auth.schemes == ("github",)
    assert provider.raw["catalog"]["version"] == "@octokit/openapi-webhooks 0.0-fixture"
    assert "repository-advisory-published" in provider.raw["catalog"]["dropped"]  # reported, not silently merged
    assert "/tmp" not in json.dumps(provider.raw["catalog"])  # no machine path in the committed profile
    for name, event in provider.events.items():
        assert provider.schema_errors(name, event.samples[0]) == [], name
    shutil.rmtree(tmp_path / "out")
    assert _refresh(tmp_path, *args) == (0, first)  # the same description writes the same bytes


def test_stripe_types_data_object_by_resource_and_records_the_spec_version(tmp_path: Path) -> None:
    base = _base(tmp_path, "stripe", ["invoice.paid"])
    args = ("stripe", "--from", str(HERE / "stripe_spec.json"), "--base", str(base))
    code, first = _refresh(tmp_path, *args)
    assert code == 0
    provider = load_catalog(tmp_path / "out", cached=False).get("stripe")
    assert set(provider.events) == {"invoice.created", "invoice.paid", "customer.created"}
    catalog: dict[str, Any] = provider.raw["catalog"]
    assert catalog["version"] == "2099-01-01" and list(catalog["dropped"]) == ["sku.created"]
    assert provider.raw["auth"]["schemes"] == ["stripe"] and provider.idempotency_key.pointer == "/id"
    defs = json.loads((tmp_path / "out" / "stripe" / "defs.schema.json").read_text())["$defs"]
    assert set(defs) == {"invoice", "customer", "api_errors", "request"}  # only what the events reach
    invoice = defs["invoice"]["properties"]
    assert "anyOf" not in invoice["customer"] and "string" in invoice["customer"]["type"]  # the id, unexpanded
    assert invoice["created"]["x-time"] == "unix" and "usd" in invoice["currency"]["enum"]
    assert defs["api_errors"]["properties"]["payment_intent"] is False  # no resource copied into an error
    paid = provider.events["invoice.paid"].schema["properties"]
    assert paid["data"]["properties"]["object"]["properties"]["status"] == {"const": "paid"}  # its documented state
    assert paid["api_version"] == {"type": "string", "enum": ["2099-01-01"]}
    for name, event in provider.events.items():
        assert provider.schema_errors(name, event.samples[0]) == [], name
        assert event.samples[0]["data"]["object"]["object"] == name.split(".")[0]
    shutil.rmtree(tmp_path / "out")
    assert _refresh(tmp_path, *args) == (0, first)


def test_a_description_that_is_not_one_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "spec.json"
    bad.write_text('{"openapi": "3.0.0", "info": {}}')
    base = _base(tmp_path, "stripe", ["invoice.paid"])
    assert _script().main(["stripe", "--from", str(bad), "--base", str(base), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refresh_catalog: ") and err.count("\n") == 1
    assert not (tmp_path / "o" / "stripe").exists()
