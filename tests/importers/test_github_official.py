"""GitHub's official webhooks description (an excerpt committed; the whole document when GITHUB_WEBHOOKS_SPEC names
it): event + action types, samples valid against the description's own schemas, and a passing check run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.catalog import load_catalog
from harness.cli import main
from harness.credentials import Credentials
from harness.engine.runner import RunConfig, run_checks
from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver

EXCERPT = Path(__file__).parent / "specs" / "github_official" / "api.github.com.excerpt.json"
FULL = os.environ.get("GITHUB_WEBHOOKS_SPEC", "")
SECRET = "It's a Secret to Everybody"


def _import(spec: Path, out: Path, *extra: str) -> int:
    return main(["import", "openapi", str(spec), "--id", "gh", "--scheme", "github", "--out", str(out), *extra])


def _own_schema_errors(spec: Path, out: Path) -> dict[str, list[str]]:
    """Each imported event's samples validated against the webhook's schema in the description itself."""
    doc = json.loads(spec.read_text())
    uri = "urn:spec"
    registry: Registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))
    provider = load_catalog(out).get("gh")
    errors: dict[str, list[str]] = {}
    refs: dict[tuple[str, str | None], str] = {}
    for hook in doc["webhooks"].values():
        op = hook["post"]
        action = op["operationId"].split("/", 1)[1].replace("-", "_") if "/" in op["operationId"] else None
        refs[(op["x-github"]["subcategory"], action)] = op["requestBody"]["content"]["application/json"]["schema"][
            "$ref"
        ]
    by_type: dict[str, Any] = {}
    for name in provider.events:
        event, _, action = name.partition(".")
        family = [ref for (sub, _), ref in refs.items() if sub == event]
        by_type[name] = refs.get((event, action or None)) or (family[0] if len(family) == 1 else "")
    for name, event in provider.events.items():
        validator = Draft202012Validator({"$ref": f"{uri}{by_type[name]}"}, registry=registry)
        found = [e.message for sample in event.samples for e in validator.iter_errors(sample)]
        if found:
            errors[name] = found
    return errors


def _check(out: Path) -> set[str]:
    catalog = load_catalog(out)
    creds = Credentials(secret=SECRET)
    with ReferenceReceiver(catalog.get("gh"), credentials=creds, catalog=catalog) as rx:
        config = RunConfig(
            provider="gh",
            url=rx.url,
            credentials=creds,
            schemas_dir=str(out),
            probe=make_probe(rx.probe_url),
            seed=3,
            max_examples=4,
        )
        result = run_checks(config)
    return {o.check for o in result.outcomes if o.status in ("failed", "warned", "blocked")}


def test_the_excerpt_imports_event_and_action_types_and_reports_the_unsatisfiable_webhook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(EXCERPT, tmp_path) == 1  # repository-advisory-published dropped: exit 1 without --allow-partial
    printed = capsys.readouterr().out
    assert "repository-advisory-published: no body satisfies the description's own schema" in printed
    assert "repository-advisory/properties/author/allOf/0: allOf parts contradict" in printed
    provider = load_catalog(tmp_path).get("gh")
    assert set(provider.events) == {"star.created", "star.deleted", "create"}
    assert provider.events["star.created"].headers == {"X-Github-Event": {"value": "star"}}
    assert provider.auth.schemes == ("github",) and provider.idempotency_key.name == "X-GitHub-Delivery"
    assert _own_schema_errors(EXCERPT, tmp_path) == {}
    assert _import(EXCERPT, tmp_path, "--force", "--allow-partial") == 0


def test_check_passes_against_the_reference_receiver_for_the_imported_excerpt(tmp_path: Path) -> None:
    assert _import(EXCERPT, tmp_path, "--allow-partial") == 0
    assert _check(tmp_path) == set()


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="GITHUB_WEBHOOKS_SPEC does not name the full api.github.com.json")
def test_the_full_description_yields_over_250_types_each_valid_and_checked(tmp_path: Path) -> None:
    spec = Path(FULL)
    assert _import(spec, tmp_path, "--allow-partial") == 0
    provider = load_catalog(tmp_path).get("gh")
    assert len(provider.events) >= 250
    assert _own_schema_errors(spec, tmp_path) == {}
    assert _check(tmp_path) == set()
