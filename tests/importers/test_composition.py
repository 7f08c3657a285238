"""Composition patterns from real specs: allOf intersected (a sibling const survives, contradictions named),
oneOf with a discriminator, $ref chains, 3.0 nullable and 3.1 type arrays; webhooks told apart, never merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.importers._document import Documents
from harness.importers._schema import SchemaConflict, SchemaConverter


def _convert(tmp_path: Path, schema: Any, components: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "components": {"schemas": components or {}}}))
    converter = SchemaConverter(Documents(spec))
    return converter.event_schema(schema, str(spec.resolve()), "here"), converter.defs


ENVELOPE = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "id": {"type": "string", "minLength": 1}, "n": {"maximum": 10}},
    "required": ["type", "id"],
}


def test_all_of_envelope_plus_sibling_const_keeps_the_const(tmp_path: Path) -> None:
    schema = {
        "allOf": [{"$ref": "#/components/schemas/Envelope"}],
        "properties": {"type": {"const": "order.created"}, "id": {"minLength": 5}, "n": {"maximum": 3}},
        "required": ["n"],
    }
    out, _ = _convert(tmp_path, schema, {"Envelope": ENVELOPE})
    assert out["properties"]["type"] == {"const": "order.created", "type": "string"}
    assert out["properties"]["id"]["minLength"] == 5 and out["properties"]["n"] == {"maximum": 3}
    assert set(out["required"]) == {"type", "id", "n"}


@pytest.mark.parametrize(
    ("sibling", "needle"),
    [
        ({"type": {"const": 5, "type": "integer"}}, "properties/type: allOf parts contradict: type"),
        ({"type": {"type": "string", "enum": ["a"]}, "id": {"const": "x", "enum": ["y"]}}, "const 'x' not in"),
    ],
)
def test_contradicting_all_of_parts_are_an_error_naming_the_pointer(
    tmp_path: Path, sibling: dict[str, Any], needle: str
) -> None:
    schema = {"allOf": [{"$ref": "#/components/schemas/Envelope"}], "properties": sibling}
    with pytest.raises(SchemaConflict, match="here/allOf/0") as caught:
        _convert(tmp_path, schema, {"Envelope": ENVELOPE})
    assert needle in str(caught.value)


def test_an_optional_property_no_value_satisfies_can_only_be_absent(tmp_path: Path) -> None:
    # GitHub's pattern: {"allOf": [{"$ref": simple-user}], "type": ["null"]} on an optional property
    schema = {
        "type": "object",
        "properties": {
            "author": {"allOf": [{"$ref": "#/components/schemas/User"}], "type": ["null"]},
            "topics": {"type": "array", "allOf": [{"items": {"type": "string"}}], "items": {"type": ["null"]}},
        },
    }
    out, _ = _convert(tmp_path, schema, {"User": {"type": "object"}})
    assert out["properties"]["author"] is False
    assert out["properties"]["topics"]["maxItems"] == 0  # only the empty array satisfies both item schemas


def test_one_of_with_discriminator_ref_chains_nullable_and_type_arrays(tmp_path: Path) -> None:
    schema = {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
        "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}},
    }
    components = {
        "Cat": {"$ref": "#/components/schemas/CatBody"},  # a $ref chain
        "CatBody": {"type": "object", "properties": {"kind": {"const": "cat"}, "name": {"type": ["string", "null"]}}},
        "Dog": {
            "type": "object",
            "properties": {"kind": {"const": "dog"}, "age": {"type": "integer", "nullable": True}},
        },
    }
    out, defs = _convert(tmp_path, schema, components)
    assert "discriminator" not in out and len(out["oneOf"]) == 2 and out["anyOf"] == out["oneOf"]
    assert defs["Cat"] == {"$ref": "#/$defs/CatBody"}
    assert defs["CatBody"]["properties"]["name"]["type"] == ["string", "null"]  # 3.1 type array kept
    assert defs["Dog"]["properties"]["age"]["type"] == ["integer", "null"]  # 3.0 nullable


def _hook(key: str, op: str, schema: Any, event_example: str = "issues") -> dict[str, Any]:
    headers = [
        {"name": "X-Github-Event", "in": "header", "example": event_example, "schema": {"type": "string"}},
        {"name": "X-Github-Delivery", "in": "header", "schema": {"type": "string"}},
    ]
    body = {"content": {"application/json": {"schema": schema}}}
    return {"post": {"operationId": op, "parameters": headers, "requestBody": body}}


def _action(value: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"action": {"type": "string", "enum": [value]}, "id": {"type": "integer"}},
        "required": ["action", "id"],
    }


def test_event_and_action_are_distinct_types_and_a_shared_example_is_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = {
        "pull-request-opened": _hook("pull-request-opened", "pull-request/opened", _action("opened")),
        "pull-request-closed": _hook("pull-request-closed", "pull-request/closed", _action("closed")),
        "push": _hook("push", "push", {"type": "object", "properties": {"ref": {"type": "string"}}}),
        "sms": {"post": {"operationId": "sms", "requestBody": {"content": {"text/plain": {"schema": {}}}}}},
    }
    spec = tmp_path / "gh.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": hooks}))
    args = ["import", "openapi", str(spec), "--id", "gh", "--out", str(tmp_path / "out"), "--scheme", "github"]
    assert main(args) == 1  # one webhook dropped: exit 1, the rest written and listed
    printed = capsys.readouterr().out
    assert "Not imported (1 webhook):" in printed and "sms:" in printed and "only JSON bodies" in printed
    provider = load_catalog(tmp_path / "out").get("gh")
    assert set(provider.events) == {"pull_request.opened", "pull_request.closed", "push"}
    assert provider.events["pull_request.closed"].headers == {"X-Github-Event": {"value": "pull_request"}}
    assert "every webhook's example says 'issues'" in provider.raw["assumptions"]["event_type"]
    assert main([*args, "--force", "--allow-partial"]) == 0


def test_webhooks_the_spec_does_not_tell_apart_are_reported_not_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = {
        "a": _hook("a", "thing/changed", {"type": "object", "properties": {"id": {"type": "integer"}}}),
        "b": _hook("b", "thing/changed", {"type": "object", "properties": {"id": {"type": "string"}}}),
    }
    spec = tmp_path / "same.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": hooks}))
    code = main(["import", "openapi", str(spec), "--id", "s", "--out", str(tmp_path / "out"), "--scheme", "github"])
    printed = capsys.readouterr().out
    assert code == 1 and "b: " in printed and "the same event type 'thing' as webhook 'a'" in printed


def test_a_spec_without_a_signature_imports_with_a_warning_and_the_scheme_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = {"type": "object", "properties": {"type": {"const": "x.done"}, "id": {"type": "string"}}}
    hooks = {"x": {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}}}}
    spec = tmp_path / "plain.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": hooks}))
    assert main(["import", "openapi", str(spec), "--id", "p", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: The spec describes no signature") and "--scheme PROVIDER" in err
    assert "placeholder" in load_catalog(tmp_path / "out").get("p").raw["assumptions"]["auth.hmac"]


def test_an_outer_type_narrows_the_branches_samples_are_drawn_from(tmp_path: Path) -> None:
    # GitHub's fork: {"allOf": [{created_at: {oneOf: [integer, date-time string]}}, {created_at: {type: string}}]}
    either = {"oneOf": [{"type": "integer"}, {"type": "string", "format": "date-time"}]}
    schema = {"allOf": [{"properties": {"created_at": either}}, {"properties": {"created_at": {"type": "string"}}}]}
    out, _ = _convert(tmp_path, schema)
    narrowed = [{"type": "string", "format": "date-time"}]
    assert out["properties"]["created_at"] == {"oneOf": narrowed, "anyOf": narrowed, "type": "string"}
