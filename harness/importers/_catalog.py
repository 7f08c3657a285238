"""Writing imported webhooks as a catalog folder: profile, event schemas, ``$defs``, samples and assumptions."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.catalog import builtin_schemas_dir, load_catalog, safe_validator
from harness.core.pointers import parse_pointer
from harness.errors import SchemaLoadError, UsageError
from harness.importers._schema import SchemaConverter

__all__ = ["Header", "ImportOptions", "ImportResult", "Webhook", "write_catalog"]

_SLUG = re.compile(r"[^a-z0-9]+")
_BASE = "https://webhook-harness.dev/schemas"
_SIGNATURE_HINTS = {
    "x-hub-signature-256": "github",
    "x-slack-signature": "slack",
    "stripe-signature": "stripe",
    "webhook-signature": "standard",
    "svix-signature": "standard",
    "x-shopify-hmac-sha256": "shopify",
    "paddle-signature": "paddle",
    "x-zm-signature": "zoom",
    "x-pagerduty-signature": "pagerduty",
    "x-square-hmacsha256-signature": "square",
}
_ID_POINTERS = ("/event_id", "/id", "/event/id", "/data/id", "/webhook_id", "/eventId")
_SEEDED_TRIES = 20
_POINTER_GUESSES = ("/type", "/event_type", "/eventType", "/event", "/event/type")
_RETRY = {
    "retry_on": {"statuses": ["non-2xx"], "connection_errors": True, "timeouts": True},
    "max_attempts": 5,
    "window": None,
    "backoff": {"delays": ["1m"], "factor": 4, "max_delay": "6h", "jitter": 0.0},
    "honours": [],
    "resign_each_attempt": True,
    "on_exhausted": "drop",
}


@dataclass(frozen=True)
class Header:
    """A header parameter of a webhook: its name, converted schema and an example value."""

    name: str
    schema: Mapping[str, Any]
    example: str | None = None


@dataclass(frozen=True)
class Webhook:
    """One webhook (OpenAPI) or message (AsyncAPI): what the provider sends, before it becomes an event type."""

    key: str
    method: str
    content_type: str
    headers: Sequence[Header]
    body: Any
    examples: Sequence[Any]
    description: str = ""
    where: str = ""
    operation_id: str = ""
    category: str = ""  # the event a vendor extension names (GitHub's ``x-github.subcategory``)


@dataclass(frozen=True)
class ImportOptions:
    """What the user said on the command line."""

    provider_id: str
    out: Path
    scheme: str | None = None
    event_header: str | None = None
    event_pointer: str | None = None
    force: bool = False


@dataclass
class ImportResult:
    """What was written, and every guess the importer made."""

    folder: Path
    events: dict[str, int] = field(default_factory=dict)
    assumptions: dict[str, str] = field(default_factory=dict)
    event_type: str = ""
    scheme: str = ""
    dropped: dict[str, str] = field(default_factory=dict)  # webhook key -> why it was not imported
    warnings: list[str] = field(default_factory=list)


def _slug(name: str) -> str:
    return _SLUG.sub("_", name.lower()).strip("_") or "event"


def _value_at(schema: Any, pointer: str, defs: Mapping[str, Any]) -> Any:
    """The const (or single enum, or example) of the property a body pointer names, following local defs."""
    node = _deref(schema, defs)
    if isinstance(node, dict) and isinstance(node.get("anyOf"), list) and node["anyOf"] and "properties" not in node:
        found = [_value_at(branch, pointer, defs) for branch in node["anyOf"]]  # oneOf/anyOf: all branches agree
        return found[0] if found[0] is not None and all(v == found[0] for v in found) else None
    for part in parse_pointer(pointer):
        node = _deref(node, defs)
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict) or part not in props:
            return None
        node = props[part]
    node = _deref(node, defs)
    if not isinstance(node, dict):
        return None
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and len(node["enum"]) == 1:
        return node["enum"][0]
    examples = node.get("examples")
    return examples[0] if isinstance(examples, list) and examples else None


def _deref(node: Any, defs: Mapping[str, Any]) -> Any:
    for _ in range(16):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and "$defs/" in node["$ref"]:
            node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        else:
            return node
    return node


def _set_const(schema: dict[str, Any], pointer: str, value: Any) -> bool:
    """Pin the event-type field to its value in an inline schema; False where it sits behind a reference."""
    node: Any = schema
    parts = parse_pointer(pointer)
    if not parts:
        return False
    for part in parts[:-1]:
        node = node.get("properties", {}).get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or "$ref" in node:
            return False
    if not isinstance(node, dict) or "$ref" in node:
        return False
    props = node.setdefault("properties", {})
    existing = props.get(parts[-1], {})
    if isinstance(existing, dict) and "$ref" not in existing:
        props[parts[-1]] = {k: v for k, v in existing.items() if k not in ("enum", "examples")} | {"const": value}
        required = node.setdefault("required", [])
        if parts[-1] not in required:
            required.append(parts[-1])
        return True
    return False


def _delivery_header(headers: Mapping[str, Any], event_header: str | None) -> str | None:
    """The header that most likely identifies the delivery: a delivery id first, then any other id."""
    for words in (("delivery",), ("idempotency", "message-id", "msg-id", "webhook-id"), ("-id",)):
        for name in headers:
            lowered = name.lower()
            if lowered == (event_header or "").lower() or (words == ("-id",) and "hook-id" in lowered):
                continue  # the event name, or the hook's id (the same on every delivery)
            if any(w in lowered for w in words):
                return name
    return None


def _has(schema: Any, pointer: str, defs: Mapping[str, Any]) -> bool:
    """The schema has a required property at the body pointer (in every branch of an anyOf)."""
    node = _deref(schema, defs)
    if isinstance(node, dict) and isinstance(node.get("anyOf"), list) and "properties" not in node:
        return all(_has(branch, pointer, defs) for branch in node["anyOf"])
    for part in parse_pointer(pointer):
        node = _deref(node, defs)
        if not isinstance(node, dict) or part not in node.get("properties", {}) or part not in node.get("required", []):
            return False
        node = node["properties"][part]
    return True


def _header_spec(header: Header, event_header: str | None) -> dict[str, Any]:
    if event_header and header.name.lower() == event_header.lower():
        return {"generate": "event_type"}
    schema = header.schema
    if "const" in schema:
        return {"value": str(schema["const"])}
    if isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1:
        return {"value": str(schema["enum"][0])}
    if schema.get("format") == "uuid":
        return {"generate": "uuid4"}
    if schema.get("type") == "integer":
        return {"generate": "digits", "length": 9}
    if header.example is not None and "user-agent" in header.name.lower():
        return {"value": header.example}
    return {"generate": "alnum", "length": max(8, min(40, len(header.example or "") or 24))}


def _scheme_description(choice: str | None, webhooks: Sequence[Webhook], result: ImportResult) -> tuple[str, Any, Any]:
    """The declarative scheme: copied from a built-in provider, read from a JSON file, or guessed from headers."""
    builtin = load_catalog()
    name = choice
    if name is None:
        seen = {h.name.lower() for w in webhooks for h in w.headers}
        guesses = [provider for header, provider in _SIGNATURE_HINTS.items() if header in seen]
        if guesses:
            name = guesses[0]
            result.assumptions["auth.hmac"] = (
                f"Guessed from the spec's signature header: signed as the {name} provider."
            )
        else:
            name = "standard"
            result.warnings.append(
                "The spec describes no signature the importer knows; signed as Standard Webhooks for now."
                " Pass --scheme PROVIDER (a built-in provider whose signing to copy, e.g. github) or"
                " --scheme FILE.json (an auth.hmac description) to sign as the provider does."
            )
            result.assumptions["auth.hmac"] = (
                "The spec describes no signature; Standard Webhooks signing is a placeholder (pass --scheme)."
            )
    if name.endswith(".json"):
        path = Path(name)
        try:
            description = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: cannot read the scheme description ({exc}).") from None
        return path.stem, description, None
    if name not in builtin.providers:
        raise UsageError(
            f"--scheme {name!r}: not a built-in provider or a .json file. Known: {', '.join(builtin.providers)}."
        )
    provider = builtin.get(name)
    raw = provider.raw["auth"]
    declared = raw.get("hmac", {})
    if not declared:
        raise UsageError(f"--scheme {name!r}: that provider's signing is not declarative HMAC; choose another.")
    scheme_name, description = next(iter(declared.items()))
    seen = {h.name.lower() for w in webhooks for h in w.headers}
    if scheme_name == "standard" and "svix-signature" in seen:
        description = {
            **description,
            "header": "svix-signature",
            "timestamp": {**description.get("timestamp", {}), "header": "svix-timestamp"},
            "id": {"header": "svix-id"},
        }
        result.assumptions["auth.hmac"] = (
            "Standard Webhooks signing with Svix's svix-* header names, as the spec's headers say."
        )
    return scheme_name, description, raw.get("tolerance")


def _event_type_location(event_header: str | None, pointer: str | None, action: str | None) -> dict[str, str]:
    if event_header is None:
        return {"in": "body", "pointer": str(pointer)}
    return {"in": "header", "name": event_header, **({"action": action} if action else {})}


def _header_event(hook: Webhook, event_header: str, trust_example: bool) -> str:
    """The value a webhook sends in the event header: a const or single enum, else what its operation names."""
    header = next((h for h in hook.headers if h.name.lower() == event_header.lower()), None)
    schema = header.schema if header is not None else {}
    if "const" in schema:
        return str(schema["const"])
    if isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1:
        return str(schema["enum"][0])
    if hook.category:
        return hook.category
    if "/" in hook.operation_id:
        return hook.operation_id.split("/", 1)[0].replace("-", "_")
    if trust_example and header is not None and header.example:
        return header.example
    return hook.operation_id or hook.key


def _identification(
    webhooks: Sequence[Webhook], converter: SchemaConverter, options: ImportOptions, result: ImportResult, spec: str
) -> tuple[str | None, str | None, str | None, bool]:
    """The event header, body pointer, action pointer and whether header examples name events; recorded."""
    event_header, pointer = options.event_header, options.event_pointer
    if event_header is None and pointer is None:
        candidates = [
            h.name for h in webhooks[0].headers if h.name.lower().endswith("-event") or h.name.lower() == "x-event-type"
        ]
        if candidates:
            event_header = candidates[0]
    if event_header is None and pointer is None:
        for guess in _POINTER_GUESSES:
            if all(_value_at(w.body, guess, converter.defs) is not None for w in webhooks):
                pointer = guess
                result.assumptions["event_type"] = f"Identified by the body field {guess} (each event pins its value)."
                break
    if event_header is None and pointer is None:
        raise UsageError(
            f"{spec}: cannot tell how a receiver identifies the event type; pass --event-header H or --event-pointer P."
        )
    if event_header is None:
        return None, pointer, None, False
    action = pointer
    if action is None and any(_value_at(w.body, "/action", converter.defs) is not None for w in webhooks):
        action = "/action"
    examples = {h.example for w in webhooks for h in w.headers if h.name.lower() == event_header.lower()}
    trusted = "" if len(examples) > 1 or len(webhooks) == 1 else f" (every webhook's example says {examples.pop()!r}"
    trusted += "; not trusted)" if trusted else ""
    text = (
        f"Identified by the {event_header} header{trusted}: its value is the header's const or enum, else the"
        " event the operation names (x-github.subcategory, or the operationId before '/')"
    )
    if action:
        text += (
            f", qualified by the body field {action} where a webhook pins it: event 'pull_request' with action"
            " 'opened' is the type 'pull_request.opened'"
        )
    result.assumptions["event_type"] = text + "."
    return event_header, None, action, not trusted


def write_catalog(
    webhooks: Sequence[Webhook],
    converter: SchemaConverter,
    options: ImportOptions,
    *,
    title: str,
    sources: Sequence[str],
    spec_name: str,
    dropped: Sequence[tuple[str, str]] = (),
) -> ImportResult:
    """Write the provider folder and prove it loads; return what was written and assumed."""
    if not webhooks:
        raise SchemaLoadError(f"{spec_name}: no webhooks to import.")
    folder = options.out / options.provider_id
    if folder.exists() and any(folder.iterdir()) and not options.force:
        raise UsageError(f"{folder} already exists and is not empty; pass --force to replace its files.")
    if options.provider_id in load_catalog().providers and options.out.resolve() == builtin_schemas_dir().resolve():
        raise UsageError(f"{options.provider_id!r} is a built-in provider; import into another --out folder.")
    result = ImportResult(folder=folder)

    event_header, pointer, action, trust = _identification(webhooks, converter, options, result, spec_name)
    grouped: dict[str, Webhook] = {}
    bases: dict[str, str] = {}  # qualified event type -> the header value it is sent under
    for key, why in dropped:
        result.dropped[key] = why
    for hook in webhooks:
        if event_header is not None:
            base = _header_event(hook, event_header, trust)
            qualifier = _value_at(hook.body, action, converter.defs) if action else None
            name = f"{base}.{qualifier}" if isinstance(qualifier, str) and qualifier else base
            bases[name] = base
        else:
            assert pointer is not None
            value = _value_at(hook.body, pointer, converter.defs)
            name = str(value) if value is not None else hook.key
        if name in grouped:
            result.dropped[hook.key] = (
                f"{hook.where or hook.key}: the same event type {name!r} as webhook {grouped[name].key!r};"
                " the spec does not tell them apart (pass --event-header/--event-pointer)"
            )
            continue
        grouped[name] = hook
    events: dict[str, Any] = {}
    files: dict[str, Any] = {}
    registry_defs = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE}/{options.provider_id}/defs.schema.json",
        "$defs": converter.defs,
    }
    slugs: set[str] = set()
    for name, hook in grouped.items():
        hooks = [hook]
        slug = _slug(name)
        while slug in slugs:
            slug += "_"
        slugs.add(slug)
        schema: Any = hook.body
        schema = dict(schema) if isinstance(schema, dict) else {"type": "object"}
        if event_header is None and pointer is not None and _value_at(schema, pointer, {}) is None:
            if _set_const(schema, pointer, name):
                result.assumptions[f"events.{name}"] = (
                    f"The spec leaves {pointer} open; the importer pins it to {name!r}."
                )
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_BASE}/{options.provider_id}/events/{slug}.schema.json",
            "title": name,
            "x-event-type": name,
            **{k: v for k, v in schema.items() if k not in ("$schema", "$id", "title")},
        }
        samples = _samples(schema, registry_defs, hooks, name, result)
        files[f"events/{slug}.schema.json"] = schema
        sample_paths = []
        for i, sample in enumerate(samples):
            path = f"samples/{slug}{'' if i == 0 else f'_{i + 1}'}.json"
            files[path] = sample
            sample_paths.append(path)
        entry: dict[str, Any] = {"schema": f"events/{slug}.schema.json", "samples": sample_paths}
        description = " ".join(dict.fromkeys(h.description.strip() for h in hooks if h.description.strip()))
        if description:
            entry["description"] = description[:300]
        if bases.get(name, name) != name:
            entry["headers"] = {event_header: {"value": bases[name]}}
        events[name] = entry
        result.events[name] = len(samples)

    scheme_name, description, tolerance = _scheme_description(options.scheme, webhooks, result)
    auth_headers = {str(description.get("header", "")).lower()}
    auth_headers |= {str(description.get("timestamp", {}).get("header", "")).lower()}
    headers: dict[str, Any] = {}
    id_header = description.get("id", {}).get("header")
    for header in webhooks[0].headers:
        if header.name.lower() in auth_headers or header.name.lower() in _SIGNATURE_HINTS:
            continue
        if header.name.lower() == "content-type":
            continue
        headers[header.name] = _header_spec(header, event_header)
    idempotency: dict[str, Any]
    delivery_header = _delivery_header(headers, event_header)
    if id_header:
        headers.setdefault(id_header, {"generate": "alnum", "length": 27, "prefix": "msg_"})
        idempotency = {"in": "header", "name": id_header}
    elif delivery_header is not None:
        headers[delivery_header] = {"generate": "uuid4"}
        idempotency = {"in": "header", "name": delivery_header}
        result.assumptions["idempotency_key"] = f"The {delivery_header} header, by its name; the spec does not say."
    else:
        found = next((p for p in _ID_POINTERS if all(_has(w.body, p, converter.defs) for w in webhooks)), "/id")
        idempotency = {"in": "body", "pointer": found}
        result.assumptions["idempotency_key"] = f"The body's {found}, by its name; the spec does not say."
    if event_header is not None and event_header not in headers:
        headers[event_header] = {"generate": "event_type"}

    profile = {
        "$schema": "https://webhook-harness.dev/meta/profile.schema.json",
        "id": options.provider_id,
        "title": title,
        "sources": list(sources),
        "method": webhooks[0].method,
        "content_type": webhooks[0].content_type,
        "body": {"shape": "single", "separators": "compact", "max_bytes": 1048576},
        "event_type": _event_type_location(event_header, pointer, action),
        "events": events,
        "headers": headers,
        "idempotency_key": idempotency,
        "auth": {"schemes": [scheme_name], "tolerance": tolerance, "hmac": {scheme_name: description}},
        "timeout": "10s",
        "retry": _RETRY,
        "handshake": None,
        "reply": None,
        "assumptions": {
            **result.assumptions,
            "body": "Single JSON bodies, compact, up to 1 MB: the spec does not describe serialisation or size.",
            "timeout": "The spec gives no receiver timeout; 10 s is our default.",
            "retry": "Specs do not describe retries; 5 attempts, waits from 1 min growing 4x to 6 h, are our default.",
        },
    }
    result.assumptions = {**profile["assumptions"]}  # type: ignore[dict-item]
    result.event_type = f"header {event_header}" if event_header else f"body {pointer}"
    result.scheme = scheme_name
    files["profile.json"] = profile
    if converter.defs:
        files["defs.schema.json"] = registry_defs
    _write_folder(folder, files, options.provider_id)
    return result


def _write_folder(folder: Path, files: Mapping[str, Any], provider_id: str) -> None:
    """Write the files to a scratch folder beside ``folder``, prove they load, then move them into place.

    A failure at any step leaves ``folder`` as it was (absent, or the previous import's files).
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{provider_id}-import-", dir=folder.parent))
    except OSError as exc:
        raise UsageError(f"Cannot write the catalog folder {folder}: {exc.strerror or exc}.") from None
    try:
        staged = scratch / provider_id
        for relative, content in files.items():
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        load_catalog(scratch, cached=False).get(provider_id)  # the proof: it loads and passes validation
        old = scratch / f"{provider_id}.old"
        if folder.exists():
            folder.rename(old)
        staged.rename(folder)
    except OSError as exc:
        raise UsageError(f"Cannot write the catalog folder {folder}: {exc.strerror or exc}.") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _samples(
    schema: Any, defs: Mapping[str, Any], hooks: Sequence[Webhook], name: str, result: ImportResult
) -> list[Any]:
    """The spec's examples that validate; a generated minimal valid payload when none does."""
    registry: Registry = Registry().with_resources(
        [
            (defs["$id"], Resource.from_contents(defs, default_specification=DRAFT202012)),
            (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)),
        ]
    )
    validator = safe_validator()(schema, registry=registry)  # a backtracking pattern fails in time, not hangs
    kept, dropped = [], 0
    for hook in hooks:
        for example in hook.examples:
            if validator.is_valid(example):
                kept.append(example)
            else:
                dropped += 1
    if dropped:
        result.assumptions[f"samples.{name}"] = (
            f"{dropped} example(s) in the spec do not validate against the schema; left out."
        )
    if kept:
        return kept
    import random

    from harness.volume import compile_payload

    make = compile_payload(schema, registry.resolver(base_uri=schema["$id"]))
    rng = random.Random(0)
    for _ in range(_SEEDED_TRIES):  # the fast seeded generator first; Hypothesis only where it keeps missing
        value = make(rng, 1_700_000_000.0)
        if validator.is_valid(value):
            result.assumptions[f"samples.{name}"] = "The spec has no valid example; the sample is a generated payload."
            return [value]
    from hypothesis import HealthCheck, find, settings

    from harness.strategies import compile_schema

    strategy = compile_schema(schema, registry.resolver(base_uri=schema["$id"]), now=1_700_000_000.0)
    quiet = settings(database=None, max_examples=50, derandomize=True, suppress_health_check=list(HealthCheck))
    value = find(strategy, lambda v: True, settings=quiet)
    result.assumptions[f"samples.{name}"] = "The spec has no valid example; the sample is a generated minimal payload."
    return [value]
