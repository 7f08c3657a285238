"""OpenAPI 3.1 ``webhooks`` (or 3.0 ``x-webhooks``) as webhooks: header parameters, JSON body schema, examples."""

from __future__ import annotations

from typing import Any

from harness.errors import SchemaLoadError
from harness.importers._catalog import Header, Webhook
from harness.importers._document import Documents
from harness.importers._schema import SchemaConflict, SchemaConverter

__all__ = ["read_openapi"]

_METHODS = ("post", "put")


def _deref(docs: Documents, node: Any, base: str, where: str) -> tuple[Any, str]:
    """Follow a non-schema ``$ref`` (parameters, request bodies, path items, examples) to its object."""
    for _ in range(32):
        if not (isinstance(node, dict) and "$ref" in node):
            return node, base
        node, base = docs.resolve(node["$ref"], base, f"{where}/$ref")
    raise SchemaLoadError(f"{where}: $ref chain longer than 32 links.")


def _examples(docs: Documents, media: dict[str, Any], base: str, where: str) -> list[Any]:
    out = []
    if "example" in media:
        out.append(media["example"])
    for key, entry in (media.get("examples") or {}).items():
        entry, _ = _deref(docs, entry, base, f"{where}/examples/{key}")
        if isinstance(entry, dict) and "value" in entry:
            out.append(entry["value"])
    schema = media.get("schema")
    if not out and isinstance(schema, dict):
        schema, _ = _deref(docs, schema, base, f"{where}/schema")
        if isinstance(schema, dict) and "example" in schema:
            out.append(schema["example"])
        elif isinstance(schema, dict) and isinstance(schema.get("examples"), list):
            out.extend(schema["examples"])
    return out


def read_openapi(
    docs: Documents, location: str, converter: SchemaConverter
) -> tuple[list[Webhook], dict[str, Any], list[tuple[str, str]]]:
    """The spec's webhooks, its ``info`` object and the webhooks not imported (with why); no webhooks is an error."""
    doc = docs.load(location)
    if not isinstance(doc, dict) or not isinstance(doc.get("openapi"), str):
        raise SchemaLoadError(f"{location}: not an OpenAPI document (no 'openapi' version field at the top).")
    version = doc["openapi"]
    hooks = doc.get("webhooks") if version.startswith("3.1") else None
    key = "webhooks"
    if hooks is None:
        hooks, key = doc.get("x-webhooks"), "x-webhooks"
    if not isinstance(hooks, dict) or not hooks:
        raise SchemaLoadError(
            f"{location}: OpenAPI {version} document has no webhooks (no top-level 'webhooks' or 'x-webhooks' map)."
        )
    out: list[Webhook] = []
    dropped: list[tuple[str, str]] = []
    for name, item in hooks.items():
        where = f"{location}#/{key}/{name}"
        try:
            out.append(_webhook(docs, converter, str(name), item, location, where))
        except _Skipped as exc:
            dropped.append((str(name), str(exc)))
    return out, doc.get("info") or {}, dropped


class _Skipped(Exception):
    """A webhook that cannot be imported (no operation, no JSON body): reported, the others still imported."""


def _webhook(docs: Documents, converter: SchemaConverter, name: str, item: Any, location: str, where: str) -> Webhook:
    item, base = _deref(docs, item, location, where)
    if not isinstance(item, dict):
        raise _Skipped(f"{where}: a webhook must be a path item object.")
    method = next((m for m in _METHODS if m in item), None)
    if method is None:
        raise _Skipped(f"{where}: no post or put operation.")
    op = item[method]
    here = f"{where}/{method}"
    headers = []
    for i, param in enumerate([*item.get("parameters", []), *op.get("parameters", [])]):
        param, pbase = _deref(docs, param, base, f"{here}/parameters/{i}")
        if not isinstance(param, dict) or param.get("in") != "header":
            continue
        raw_schema = param.get("schema", {})
        schema, _ = _deref(docs, raw_schema, pbase, f"{here}/parameters/{i}/schema")
        example = param.get("example", schema.get("example") if isinstance(schema, dict) else None)
        if example is None and isinstance(param.get("examples"), dict) and param["examples"]:
            first, _ = _deref(docs, next(iter(param["examples"].values())), pbase, f"{here}/parameters/{i}")
            example = first.get("value") if isinstance(first, dict) else None
        headers.append(Header(str(param["name"]), schema if isinstance(schema, dict) else {}, _text(example)))
    body, bbase = _deref(docs, op.get("requestBody"), base, f"{here}/requestBody")
    content = (body or {}).get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        raise _Skipped(f"{here}/requestBody: no content to import.")
    content_type = next((c for c in content if "json" in c), None)
    if content_type is None:
        raise _Skipped(f"{here}/requestBody/content: only JSON bodies are imported (found {', '.join(content)}).")
    media = content[content_type]
    media_where = f"{here}/requestBody/content/{content_type}"
    if not isinstance(media, dict) or "schema" not in media:
        raise _Skipped(f"{media_where}: no schema.")
    try:
        schema = converter.event_schema(media["schema"], bbase, f"{media_where}/schema")
    except SchemaConflict as exc:
        raise _Skipped(f"no body satisfies the description's own schema: {exc}") from None
    vendor = op.get("x-github")
    return Webhook(
        key=name,
        method=method.upper(),
        content_type=content_type,
        headers=headers,
        body=schema,
        examples=_examples(docs, media, bbase, media_where),
        description=str(op.get("description") or op.get("summary") or ""),
        where=media_where,
        operation_id=str(op.get("operationId") or ""),
        category=str(vendor.get("subcategory") or "") if isinstance(vendor, dict) else "",
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
