"""OpenAPI schema objects to JSON Schema 2020-12, and $refs fetched from a server only when allowed."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.importers._document import Documents
from harness.importers._schema import SchemaConverter


def _convert(tmp_path: Path, schema: object, components: dict[str, object] | None = None) -> tuple[object, dict]:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "components": {"schemas": components or {}}}))
    converter = SchemaConverter(Documents(spec))
    out = converter.event_schema(schema, str(spec.resolve()), "here")
    return out, converter.defs


def test_openapi_3_0_keywords_become_2020_12(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "nullable": True, "example": "x", "x-internal": True},
            "b": {"$ref": "#/components/schemas/B", "nullable": True},
            "c": {"oneOf": [{"type": "integer"}, {"type": "string"}], "discriminator": {"propertyName": "k"}},
            "d": {"type": "number", "maximum": 10, "exclusiveMaximum": True, "minimum": 0, "exclusiveMinimum": False},
            "e": {"type": "string", "enum": ["p", "q"], "nullable": True},
        },
    }
    out, defs = _convert(tmp_path, schema, {"B": {"type": "object", "properties": {"n": {"type": "integer"}}}})
    props = out["properties"]  # type: ignore[index]
    assert props["a"] == {"type": ["string", "null"], "examples": ["x"]}
    assert props["b"] == {"$ref": "../defs.schema.json#/$defs/B"}  # a sibling nullable on a $ref is ignored, as in 3.0
    branches = [{"type": "integer"}, {"type": "string"}]
    assert props["c"] == {"oneOf": branches, "anyOf": branches}  # oneOf validates, anyOf is what is generated
    assert props["d"] == {"type": "number", "exclusiveMaximum": 10, "minimum": 0}
    assert props["e"] == {"type": ["string", "null"], "enum": ["p", "q", None]}
    assert defs == {"B": {"type": "object", "properties": {"n": {"type": "integer"}}}}


def test_a_recursive_schema_stays_a_reference(tmp_path: Path) -> None:
    node = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
    }
    out, defs = _convert(tmp_path, {"$ref": "#/components/schemas/Node"}, {"Node": node})
    assert out == {"$ref": "../defs.schema.json#/$defs/Node"}
    assert defs["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server for one schema file; stopped when the test ends."""
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "money.json").write_text(
        json.dumps({"type": "object", "properties": {"amount": {"type": "integer"}}, "required": ["amount"]})
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "served"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_a_remote_ref_is_fetched_only_with_allow_remote_refs(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "type": "object",
        "properties": {"type": {"enum": ["paid"]}, "total": {"$ref": f"{server}/money.json"}},
        "required": ["type", "total"],
    }
    hook = {
        "post": {
            "parameters": [{"name": "X-Hub-Signature-256", "in": "header", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": body}}},
        }
    }
    spec = tmp_path / "remote.json"
    spec.write_text(
        json.dumps({"openapi": "3.1.0", "info": {"title": "r", "version": "1"}, "webhooks": {"paid": hook}})
    )
    args = ["import", "openapi", str(spec), "--id", "remote", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert "is not fetched (pass --allow-remote-refs)" in capsys.readouterr().err
    assert main([*args, "--allow-remote-refs"]) == 0
    provider = load_catalog(tmp_path / "out", cached=False).get("remote")
    sample = provider.events["paid"].samples[0]
    assert isinstance(sample["total"]["amount"], int)  # generated from the fetched schema
    assert provider.schema_errors("paid", sample) == []
