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


def _slack_base(tmp_path: Path) -> Path:
    """The built-in slack folder as the base: its profile, shared defs, handshake and documented samples."""
    shutil.copytree(ROOT / "schemas" / "slack", tmp_path / "base" / "slack")
    return tmp_path / "base" / "slack" / "profile.json"


def test_slack_imports_every_topic_as_the_inner_event_type_and_keeps_the_handshake(tmp_path: Path) -> None:
    from jsonschema import Draft7Validator

    spec = HERE / "slack_events_api_excerpt.json"
    args = ("slack", "--from", str(spec), "--base", str(_slack_base(tmp_path)), "--version", "1.0.0 (fixture)")
    code, first = _refresh(tmp_path, *args)
    assert code == 0
    provider = load_catalog(tmp_path / "out", cached=False).get("slack")
    # message and message.im are subscriptions to the one message event; the rest are named by their event page
    assert set(provider.events) == {"app_mention", "channel_created", "message", "reaction_added", "url_verification"}
    catalog: dict[str, Any] = provider.raw["catalog"]
    assert catalog["version"] == "1.0.0 (fixture)" and catalog["event_types"] == 5
    assert catalog["dropped"] == {"legacy.publish.only": "no subscribe operation (nothing is delivered)"}
    assert "message, message.im deliver message" in catalog["description"]
    raw = provider.raw
    assert raw["handshake"]["event"] == "url_verification" and raw["events"]["url_verification"]["role"] == "handshake"
    assert raw["auth"]["hmac"]["slack"]["content"] == "v0:{timestamp}:{body}" and raw["retry"]["max_attempts"] == 4
    assert provider.idempotency_key.pointer == "/event_id" and raw["sampling"]["common"][0] == "message"
    assert "not imported" not in raw["assumptions"]["catalog"]
    message = provider.events["message"].schema["properties"]["event"]["properties"]
    assert "im" in message["channel_type"]["enum"] and message["type"] == {"const": "message"}
    description = json.loads(spec.read_text())["components"]["schemas"]["GenericEventWrapper"]
    wrapper = Draft7Validator(description)
    for name, event in provider.events.items():
        body = event.samples[0]
        assert provider.schema_errors(name, body) == [], name
        if name != "url_verification":  # the handshake is no event_callback; the rest are valid against the spec's
            assert sorted(e.message for e in wrapper.iter_errors(body)) == [], name
            assert body["type"] == "event_callback" and body["event"]["type"] == name
    generated = provider.events["channel_created"].samples[0]  # a generated body carries the invariants applied
    assert generated["event_time"] == int(float(generated["event"]["event_ts"]))
    assert set(generated["event"]) == {"type", "event_ts"}  # what the description states of this event, no more
    shutil.rmtree(tmp_path / "out")
    assert _refresh(tmp_path, *args) == (0, first)


def test_slack_refuses_an_asyncapi_2_document_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "asyncapi2.json"
    spec.write_text('{"asyncapi": "2.0.0", "info": {}, "channels": {}}')
    out = tmp_path / "o"
    assert _script().main(["slack", "--from", str(spec), "--base", str(_slack_base(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refresh_catalog: ") and "1.x document" in err and err.count("\n") == 1
    assert not (out / "slack").exists()
