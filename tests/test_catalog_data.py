"""Every file in schemas/ is well-formed: profiles, event schemas and the samples that must validate against them."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
PROFILE_META = json.loads((ROOT / "harness" / "catalog" / "profile.schema.json").read_text())
PROVIDERS = sorted(p.name for p in SCHEMAS.iterdir() if (p / "profile.json").is_file()) if SCHEMAS.is_dir() else []
EXPECTED_PROVIDERS = {
    "sendgrid",
    "jira",
    "teams",
    "oci",
    "github",
    "stripe",
    "slack",
    "shopify",
    "standard",
    "zoom",
    "paddle",
    "pagerduty",
    "square",
    "msgraph",
    "dropbox",
    "asana",
    "okta",
    "twitch",
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def _registry(provider: str) -> Registry:
    resources = []
    for path in sorted((SCHEMAS / provider).rglob("*.schema.json")):
        doc = _load(path)
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def _event_cases() -> list[tuple[str, str, dict[str, Any]]]:
    cases = []
    for provider in PROVIDERS:
        profile = _load(SCHEMAS / provider / "profile.json")
        for event, entry in profile["events"].items():
            cases.append((provider, event, entry))
    return cases


def test_every_provider_is_present() -> None:
    assert EXPECTED_PROVIDERS <= set(PROVIDERS)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_profile_matches_meta_schema(provider: str) -> None:
    profile = _load(SCHEMAS / provider / "profile.json")
    errors = sorted(Draft202012Validator(PROFILE_META).iter_errors(profile), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert profile["id"] == provider


DEFS_SAMPLE = 60  # definitions meta-checked per run in a generated catalog's defs.schema.json (seeded, see below)


def _generated(provider: str) -> bool:
    """A catalog written by scripts/refresh_catalog.py (its profile records the description it came from)."""
    return "catalog" in _load(SCHEMAS / provider / "profile.json")


def _check_schema(provider: str, path: Path, doc: Any) -> None:
    """The meta-schema check; a generated catalog's multi-MB defs file is checked one seeded sample of definitions
    at a time (the whole file takes ~20 s; refresh_catalog.py checked all of it when it wrote the folder)."""
    if not (_generated(provider) and path.name == "defs.schema.json"):
        Draft202012Validator.check_schema(doc)
        return
    names = sorted(doc["$defs"])
    for name in random.Random(27).sample(names, min(DEFS_SAMPLE, len(names))):
        Draft202012Validator.check_schema(doc["$defs"][name])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_schema_file_passes_its_meta_schema(provider: str) -> None:
    for path in sorted((SCHEMAS / provider).rglob("*.schema.json")):
        doc = _load(path)
        _check_schema(provider, path, doc)
        rel = path.relative_to(SCHEMAS).as_posix()
        assert doc["$id"] == f"https://webhook-harness.dev/schemas/{rel}", path


@pytest.mark.parametrize(("provider", "event", "entry"), _event_cases(), ids=[f"{p}:{e}" for p, e, _ in _event_cases()])
def test_samples_validate_against_their_event_schema(provider: str, event: str, entry: dict[str, Any]) -> None:
    schema = _load(SCHEMAS / provider / entry["schema"])
    assert schema.get("x-event-type") == event
    validator = Draft202012Validator(
        schema, registry=_registry(provider), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for sample in entry["samples"]:
        instance = _load(SCHEMAS / provider / sample)
        errors = list(validator.iter_errors(instance))
        assert not errors, [f"{sample} {list(e.path)}: {e.message}" for e in errors]


def test_a_user_schema_without_dollar_schema_loads_as_draft_2020_12(tmp_path: Path) -> None:
    """A user's --schemas folder may omit "$schema"; it is read as Draft 2020-12, not a traceback."""
    import shutil

    from harness.catalog import load_catalog

    shutil.copytree(SCHEMAS / "paddle", tmp_path / "paddle")
    path = tmp_path / "paddle" / "events" / "transaction_completed.schema.json"
    doc = _load(path)
    doc.pop("$schema")
    path.write_text(json.dumps(doc))
    provider = load_catalog(tmp_path).get("paddle")
    event = provider.events["transaction.completed"]
    assert provider.schema_errors("transaction.completed", event.samples[0]) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_runtime_validator_accepts_the_shipped_provider(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI trusts the shipped catalog at start-up; this is where it is validated, with the loader's own checks.
    from harness.catalog._loader import _load_provider

    if _generated(provider):  # the meta-schema part is sampled by test_every_schema_file_passes_its_meta_schema
        real = Draft202012Validator.check_schema
        checked = {"$defs"}

        def check_schema(doc: Any) -> None:
            if not (isinstance(doc, dict) and checked & set(doc)):
                real(doc)

        monkeypatch.setattr(Draft202012Validator, "check_schema", check_schema)
    loaded = _load_provider(SCHEMAS / provider, {}, validate=True)
    assert loaded.id == provider


def _user_folder(tmp_path: Path, schema: dict[str, Any]) -> Path:
    import shutil

    folder = tmp_path / "schemas" / "sendgrid"
    shutil.copytree(SCHEMAS / "sendgrid", folder)
    (folder / "events" / "broken.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return folder.parent


def test_a_user_folder_is_still_validated_at_runtime(tmp_path: Path) -> None:
    from harness.catalog import load_catalog
    from harness.errors import SchemaLoadError

    root = _user_folder(tmp_path, {"$id": "https://example.com/broken.json", "type": 12})
    with pytest.raises(SchemaLoadError, match=r"broken\.schema\.json: not a valid JSON Schema"):
        load_catalog(root)


def test_a_config_override_is_still_checked_against_the_profile_meta_schema() -> None:
    from harness.catalog import load_catalog
    from harness.errors import SchemaLoadError

    with pytest.raises(SchemaLoadError, match=r"profile\.json: invalid profile at timeout"):
        load_catalog(overrides={"github": {"timeout": 10}})
