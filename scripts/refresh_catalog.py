"""Regenerate a built-in provider's event catalog from the vendor's machine-readable description.

    python scripts/refresh_catalog.py github --from octokit-openapi-webhooks-12.1.0.tgz
    python scripts/refresh_catalog.py stripe --from spec3.json [--version 2023-08-16]
    python scripts/refresh_catalog.py slack --from slack_events_api_async_v1.json [--version '1.0.0 (commit)']

github: GitHub's webhooks description, the ``@octokit/openapi-webhooks`` npm package (``npm pack
@octokit/openapi-webhooks`` downloads it; give the .tgz or its ``generated/api.github.com.json``). Every webhook is
imported by ``webhook-harness import openapi`` (event + action types), then written over ``schemas/github``.

stripe: Stripe's OpenAPI description (github.com/stripe/openapi, ``openapi/spec3.json``, ``spec3.sdk.json`` or their
YAML forms). Event types come from the spec's ``x-stripeEvent`` schemas where it has them, else from the
``enabled_events`` enum of ``POST /v1/webhook_endpoints``; each event's ``data.object`` is the resource schema the
type names (``invoice.paid`` -> ``invoice``, with the few documented aliases in ``STRIPE_ALIASES``).

slack: Slack's Events API AsyncAPI 1.2 description (github.com/slackapi/slack-api-specs,
``events-api/slack_events_api_async_v1.json``). One type per topic's event page (the inner ``event.type`` inside the
``event_callback`` envelope); the ``message.*`` topics are subscriptions to ``message``; ``url.verification`` is the
profile's handshake, kept as written. Every body is checked against the description's ``GenericEventWrapper``.

Only the event catalog is replaced: ``events``, the schemas, the samples, ``defs.schema.json`` and the profile's
``catalog`` block. Signing, headers, retries, idempotency, lifecycles, sampling and assumptions stay as the existing
profile (``--base``) states them. The raw description is never stored: schemas keep only what validation and
generation use (descriptions and examples are dropped), Stripe's expandable fields are their unexpanded id (what
webhooks send), and ``defs.schema.json`` holds only the definitions the events reach. The output is deterministic:
the same description writes the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_URI = "https://webhook-harness.dev/schemas"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
NOW = 1_700_000_000.0  # generated samples' "now": fixed, so a refresh is deterministic

# Keywords whose value is not a schema: never walked into.
_VALUE_KEYS = frozenset({"const", "enum", "examples", "default", "required", "x-invariants", "x-event-type"})
# Keywords whose value maps names to schemas.
_MAP_KEYS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas", "definitions"})
_ANNOTATIONS = ("description", "examples", "$comment", "deprecated", "readOnly", "writeOnly")

# What GitHub's body schemas leave open and GitHub's documentation pins (only ever narrowing the description's schema,
# so every body stays valid against it): node ids are base64-like global ids, and a push's flags agree with its shas.
GITHUB_NODE_ID = {"pattern": "^[A-Za-z0-9+/=_-]{4,100}$"}
GITHUB_PUSH_INVARIANTS = [
    {"if": {"/created": True}, "then": {"/deleted": False, "/before": "0" * 40}},
    {"if": {"/deleted": True}, "then": {"/after": "0" * 40, "/commits": [], "/head_commit": None, "/created": False}},
]


GITHUB_MAX_ITEMS = 2  # an open-ended list of objects (labels, assignees, commits...) holds up to this many


def bound_lists(node: Any, most: int) -> None:
    """An open-ended list of objects holds at most ``most`` items (a narrowing: generated bodies stay small)."""
    if not isinstance(node, dict) or "$ref" in node:
        return
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key) or ():
            bound_lists(branch, most)
    types = node.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    items = node.get("items")
    if "array" in kinds and isinstance(items, dict) and "maxItems" not in node:
        if "$ref" in items or items.get("type") == "object" or "properties" in items:
            node["maxItems"] = max(most, int(node.get("minItems", 0)))


def mark_time(node: Any) -> None:
    """A time field GitHub's description leaves as a bare string or integer: an RFC 3339 string or Unix seconds
    (GitHub's documented forms), drawn near "now". Branches of anyOf/oneOf are marked alike."""
    if not isinstance(node, dict) or "$ref" in node:
        return
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key) or ():
            mark_time(branch)
    types = node.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    if "string" in kinds and not any(k in node for k in ("format", "pattern", "enum", "const")):
        node["format"] = "date-time"
    elif kinds & {"integer"} and "string" not in kinds and "x-time" not in node:
        node["x-time"] = "unix"


# Event-type prefixes whose data.object is a resource of another name (docs.stripe.com/api/events/types).
STRIPE_ALIASES = {
    "account.application": "application",
    "account.external_account": "external_account",
    "application_fee.refund": "fee_refund",
    "charge.dispute": "dispute",
    "charge.refund": "refund",
    "customer.discount": "discount",
    "customer.source": "source",
    "customer.subscription": "subscription",
    "customer.tax_id": "tax_id",
    "issuing_authorization": "issuing.authorization",
    "issuing_card": "issuing.card",
    "issuing_cardholder": "issuing.cardholder",
    "issuing_dispute": "issuing.dispute",
    "issuing_transaction": "issuing.transaction",
    "sigma.scheduled_query_run": "scheduled_query_run",
    "source.mandate_notification": "source_mandate_notification",
    "source.transaction": "source_transaction",
}
# The state an event's object is in (docs.stripe.com/api/events/types): a narrowing of the resource schema, so the
# bodies of these types look like what Stripe sends (an invoice.paid invoice is paid).
STRIPE_STATES: dict[str, dict[str, Any]] = {
    "payment_intent.succeeded": {"status": "succeeded"},
    "payment_intent.payment_failed": {"amount_received": 0, "status": "requires_payment_method"},
    "payment_intent.canceled": {"status": "canceled"},
    "payment_intent.processing": {"status": "processing"},
    "payment_intent.requires_action": {"status": "requires_action"},
    "charge.succeeded": {"amount_refunded": 0, "paid": True, "refunded": False, "status": "succeeded"},
    "charge.failed": {"paid": False, "status": "failed"},
    "charge.pending": {"status": "pending"},
    "charge.refunded": {"captured": True, "paid": True, "status": "succeeded"},
    "checkout.session.completed": {"status": "complete"},
    "checkout.session.expired": {"status": "expired"},
    "customer.subscription.deleted": {"status": "canceled"},
    "invoice.paid": {"amount_remaining": 0, "attempted": True, "paid": True, "status": "paid"},
    "invoice.payment_succeeded": {"amount_remaining": 0, "attempted": True, "paid": True, "status": "paid"},
    "invoice.payment_failed": {"attempted": True, "paid": False, "status": "open"},
    "invoice.voided": {"status": "void"},
    "invoice.marked_uncollectible": {"status": "uncollectible"},
    "invoice.finalized": {"status": "open"},
    "payout.paid": {"status": "paid"},
    "payout.failed": {"status": "failed"},
    "payout.canceled": {"status": "canceled"},
}

# Three-letter ISO codes, lower case: Stripe's common presentment currencies (it supports more; a narrowing).
STRIPE_CURRENCIES = [
    "usd",
    "eur",
    "gbp",
    "cad",
    "aud",
    "jpy",
    "chf",
    "sek",
    "nok",
    "dkk",
    "sgd",
    "nzd",
    "mxn",
    "brl",
    "inr",
]

# The types whose samples wrap a documented object (fixtures3.json or the API reference): kept while still valid.
STRIPE_DOCUMENTED = frozenset(
    {
        "charge.refunded",
        "charge.succeeded",
        "checkout.session.completed",
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    }
)

# Optional objects inside an API error that embed whole resources (and, through them, errors again): left out.
STRIPE_ERROR_OBJECTS = ("payment_intent", "payment_method", "setup_intent", "source")
MAX_TEXT = 200  # free text (no pattern, format or enum) is drawn up to this many characters
MAX_ITEMS = 5  # an open-ended list holds up to this many items


def narrow_sizes(node: dict[str, Any]) -> None:
    """Bound free text and open-ended lists (a narrowing: what it admits the description admits)."""
    types = node.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    if "string" in kinds and not any(k in node for k in ("pattern", "format", "enum", "const")):
        node["maxLength"] = min(int(node.get("maxLength", MAX_TEXT)), MAX_TEXT)
        node["minLength"] = min(int(node.get("minLength", 0)), node["maxLength"])
        if node["minLength"] == 0:
            del node["minLength"]
    if "array" in kinds:
        node["maxItems"] = min(int(node.get("maxItems", MAX_ITEMS)), MAX_ITEMS)
        if int(node.get("minItems", 0)) > node["maxItems"]:
            node["maxItems"] = int(node["minItems"])


# Id prefixes of the resources Stripe documents them for (docs.stripe.com/api: each object's id example).
STRIPE_ID_PREFIXES = {
    "account": "acct_",
    "balance_transaction": "txn_",
    "charge": "ch_",
    "checkout.session": "cs_",
    "credit_note": "cn_",
    "customer": "cus_",
    "dispute": "dp_",
    "invoice": "in_",
    "invoiceitem": "ii_",
    "payment_intent": "pi_",
    "payment_link": "plink_",
    "payment_method": "pm_",
    "payout": "po_",
    "price": "price_",
    "product": "prod_",
    "promotion_code": "promo_",
    "quote": "qt_",
    "refund": "re_",
    "setup_intent": "seti_",
    "subscription": "sub_",
    "subscription_item": "si_",
    "subscription_schedule": "sub_sched_",
    "topup": "tu_",
    "transfer": "tr_",
}


class RefreshError(Exception):
    """A description the refresh cannot use: one line, exit 2."""


# ----------------------------------------------------------------------------------------------------------- schemas


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside a schema (not the values of const, enum, examples, default)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
            continue
        if not isinstance(current, dict):
            continue
        yield current
        for key, value in current.items():
            if key in _VALUE_KEYS:
                continue
            if key in _MAP_KEYS and isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, dict | list):
                stack.append(value)


def strip_annotations(schema: Any) -> Any:
    """The schema without what neither validation nor generation reads (descriptions, examples)."""
    for node in schema_nodes(schema):
        for key in _ANNOTATIONS:
            if key == "description" and not isinstance(node.get(key), str):
                continue
            node.pop(key, None)
    return schema


def referenced_defs(roots: list[Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Only the ``$defs`` the roots reach (in the definitions' own order)."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        for node in schema_nodes(stack.pop()):
            ref = node.get("$ref")
            if isinstance(ref, str) and "#/$defs/" in ref:
                name = ref.rsplit("/", 1)[-1]
                if name not in seen and name in defs:
                    seen.add(name)
                    stack.append(defs[name])
    return {name: value for name, value in defs.items() if name in seen}


def _local(node: Any, defs: Mapping[str, Any]) -> Any:
    """A branch with its ``$defs`` references followed (siblings ignored: only its required fields are read)."""
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not (isinstance(ref, str) and "#/$defs/" in ref):
            return node
        node = defs.get(ref.rsplit("/", 1)[-1])
    return node


def separate_one_of(roots: list[Any], defs: Mapping[str, Any]) -> int:
    """Make each ``oneOf`` object branch exclude the fields only another branch requires; returns how many it changed.

    A generator draws one branch, but an object drawn from one branch (a user) can carry every field another branch
    requires (a team) and then match both, which ``oneOf`` refuses. Forbidding in each branch the fields that only
    the others require only narrows it, so what it admits the description's schema still admits, exactly once.
    """
    changed = 0
    for root in roots:
        for node in list(schema_nodes(root)):
            branches = node.get("oneOf")
            if not isinstance(branches, list) or len(branches) < 2:
                continue
            required = []
            for branch in branches:
                target = _local(branch, defs)
                is_object = isinstance(target, dict) and ("properties" in target or target.get("type") == "object")
                required.append(set(target.get("required") or ()) if is_object else None)
            out = []
            for i, branch in enumerate(branches):
                mine = required[i]
                others = set().union(*(r for j, r in enumerate(required) if j != i and r is not None))
                forbid = sorted(others - mine) if mine is not None and isinstance(branch, dict) else []
                if forbid:
                    props = {**(branch.get("properties") or {}), **dict.fromkeys(forbid, False)}
                    branch = {**branch, "properties": props}
                    changed += 1
                out.append(branch)
            if node.get("anyOf") == branches:
                node["anyOf"] = json.loads(json.dumps(out))
            node["oneOf"] = out
    return changed


def dump(value: Any, *, compact: bool = False) -> str:
    """Deterministic JSON text: indented for what people read, compact for the bulk (defs, samples)."""
    if compact:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# ----------------------------------------------------------------------------------------------------------- samples


def sample_maker(schema: dict[str, Any], defs_doc: dict[str, Any]) -> tuple[Callable[[Any], bool], Any]:
    """A validator for one event schema and a seeded payload maker for it (the catalog's own generator)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from harness.catalog import safe_validator
    from harness.volume import compile_payload

    registry: Registry = Registry().with_resources(
        [(doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012)) for doc in (defs_doc, schema)]
    )
    validator = safe_validator()(schema, registry=registry)
    return validator.is_valid, compile_payload(schema, registry.resolver(base_uri=schema["$id"]))


def generated_sample(name: str, schema: dict[str, Any], defs_doc: dict[str, Any]) -> Any:
    """A payload valid against the schema, from a seed derived from the type's name (deterministic)."""
    valid, make = sample_maker(schema, defs_doc)
    rng = random.Random(zlib.crc32(name.encode()))
    found: list[tuple[int, int, Any]] = []
    for _ in range(50):
        value = make(rng, NOW)
        if valid(value):
            found.append((len(json.dumps(value)), len(found), value))
            if len(found) == 5:
                break
    if found:
        return min(found)[2]  # the smallest of a few valid draws: samples stay readable and the folder small
    raise RefreshError(f"{name}: no valid sample in 50 seeded tries; the schema may be unsatisfiable.")


# ------------------------------------------------------------------------------------------------------------ github


def read_github_description(path: Path, version: str | None) -> tuple[Path, str, Path | None]:
    """The description's JSON file and version: from the npm tarball's package.json, or as given."""
    if path.suffix in (".tgz", ".gz"):
        scratch = Path(tempfile.mkdtemp(prefix="octokit-webhooks-"))
        with tarfile.open(path) as tar:
            for member in ("package/package.json", "package/generated/api.github.com.json"):
                try:
                    tar.extract(member, scratch, filter="data")
                except KeyError:
                    raise RefreshError(f"{path}: no {member} (is it the @octokit/openapi-webhooks package?)") from None
        package = json.loads((scratch / "package" / "package.json").read_text("utf-8"))
        return scratch / "package" / "generated" / "api.github.com.json", version or package["version"], scratch
    if version is None:
        doc = json.loads(path.read_text("utf-8"))
        version = str((doc.get("info") or {}).get("version") or "unknown")
    return path, version, None


def refresh_github(spec: Path, version: str | None, base: Mapping[str, Any]) -> dict[str, Any]:
    """The github folder's files from GitHub's description, as ``{relative path: JSON text}``."""
    from harness.importers import ImportOptions, import_spec

    spec, version, scratch = read_github_description(spec, version)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = import_spec("openapi", spec, ImportOptions(provider_id="github", out=Path(tmp), scheme="github"))
            folder = Path(tmp) / "github"
            imported = json.loads((folder / "profile.json").read_text("utf-8"))
            defs_doc = strip_annotations(json.loads((folder / "defs.schema.json").read_text("utf-8")))
            header = base["event_type"]["name"]
            events: dict[str, Any] = {}
            files: dict[str, str] = {}
            schemas = []
            samples: dict[str, list[Any]] = {}
            for name, entry in imported["events"].items():
                schema = strip_annotations(json.loads((folder / entry["schema"]).read_text("utf-8")))
                if name == "push":
                    schema["x-invariants"] = GITHUB_PUSH_INVARIANTS
                schemas.append(schema)
                samples[name] = [json.loads((folder / s).read_text("utf-8")) for s in entry["samples"]]
                out: dict[str, Any] = {"schema": entry["schema"], "samples": entry["samples"]}
                if entry.get("description"):
                    out["description"] = entry["description"]
                family = list((entry.get("headers") or {}).values())
                if family:
                    out["headers"] = {header: family[0]}  # the profile's spelling of the event header
                events[name] = out
        defs_doc["$defs"] = referenced_defs(schemas, defs_doc["$defs"])
        separate_one_of([*schemas, *defs_doc["$defs"].values()], defs_doc["$defs"])
        for node in [*schema_nodes(defs_doc), *(n for schema in schemas for n in schema_nodes(schema))]:
            props = node.get("properties")
            if not isinstance(props, dict):
                continue
            for sub in props.values():
                bound_lists(sub, GITHUB_MAX_ITEMS)
            if isinstance(props.get("node_id"), dict):
                props["node_id"] = {**props["node_id"], **GITHUB_NODE_ID}
            for name, sub in props.items():
                if name == "timestamp" or name.endswith("_at"):
                    mark_time(sub)
        files["defs.schema.json"] = dump(defs_doc, compact=True)
        regenerated = 0
        for schema, entry in zip(schemas, events.values(), strict=True):
            files[entry["schema"]] = dump(schema)
        for schema, (name, found) in zip(schemas, samples.items(), strict=True):
            valid, _ = sample_maker(schema, defs_doc)  # the narrowed schema: a generated sample may need a redraw
            for index, sample in enumerate(found):
                if not valid(sample):
                    found[index] = generated_sample(name, schema, defs_doc)
                    regenerated += 1
            for path, sample in zip(events[name]["samples"], found, strict=True):
                files[path] = dump(sample, compact=True)
        generated = sum(1 for key in result.assumptions if key.startswith("samples."))
        dropped = {key: re.sub(r"\S*/([^/\s]+\.json)#", r"\1#", why) for key, why in sorted(result.dropped.items())}
        catalog = {
            "description": "GitHub's webhooks OpenAPI description (api.github.com.json)",
            "source": "https://www.npmjs.com/package/@octokit/openapi-webhooks",
            "version": f"@octokit/openapi-webhooks {version}",
            "refresh": "python scripts/refresh_catalog.py github --from octokit-openapi-webhooks-VERSION.tgz",
            "event_types": len(events),
            "dropped": dropped,
        }
        assumptions = {
            "events": (
                f"Every webhook of GitHub's description ({catalog['version']}), one type per event and action "
                f"({len(events)} types; webhooks not imported are listed in catalog.dropped). Schemas are the "
                "description's, without descriptions and examples, narrowed where GitHub documents more (every body "
                "stays valid against the description): node_id is a base64-like global id, *_at and timestamp "
                "fields left as bare strings or integers are RFC 3339 times or Unix seconds, open-ended lists of "
                f"objects hold up to {GITHUB_MAX_ITEMS} (labels, assignees, commits...), and push's "
                "created/deleted flags agree with its before/after shas. oneOf branches exclude the fields only "
                "their siblings require, so a drawn object matches exactly one."
            ),
            "samples": (
                f"{len(events) - generated} types carry the description's example; {generated} carry a payload "
                "generated (seeded) from the schema, because the description has no example that validates."
            ),
        }
        event_type = {**base["event_type"], "action": "/action"}
        return {
            "events": events,
            "files": files,
            "catalog": catalog,
            "assumptions": assumptions,
            "event_type": event_type,
        }
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------------------------------------------ stripe


def read_document(path: Path) -> Any:
    """A JSON or YAML description."""
    text = path.read_text("utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return json.loads(text)


def stripe_event_types(doc: Mapping[str, Any]) -> tuple[list[tuple[str, str]], dict[str, str], str]:
    """(event type, resource schema name) pairs, the types not mapped (with why), and where the list came from."""
    schemas: Mapping[str, Any] = doc["components"]["schemas"]
    found: list[tuple[str, str]] = []
    for schema in schemas.values():  # newer specs: one schema per event type, its object a $ref to the resource
        event = schema.get("x-stripeEvent") if isinstance(schema, dict) else None
        if isinstance(event, dict) and isinstance(event.get("type"), str) and event.get("kind", "snapshot") != "thin":
            ref = ((schema.get("properties") or {}).get("object") or {}).get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                found.append((event["type"], ref.rsplit("/", 1)[-1]))
    if found:
        return sorted(set(found)), {}, "the spec's x-stripeEvent schemas"
    try:
        form = doc["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]
        enum = next(iter(form.values()))["schema"]["properties"]["enabled_events"]["items"]["enum"]
    except (KeyError, StopIteration, TypeError):
        raise RefreshError("no x-stripeEvent schemas, no enabled_events enum on POST /v1/webhook_endpoints") from None
    by_resource = {
        s["x-resourceId"]: name for name, s in schemas.items() if isinstance(s, dict) and "x-resourceId" in s
    }
    pairs, dropped = [], {}
    for event in enum:
        if event == "*":
            continue
        parts = event.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            target = STRIPE_ALIASES.get(prefix, prefix)
            name = by_resource.get(target) or (target if target in schemas else None)
            if name is not None:
                pairs.append((event, name))
                break
        else:
            dropped[event] = "no resource schema in the spec matches the event type's prefix"
    return pairs, dropped, "the enabled_events enum of POST /v1/webhook_endpoints"


def unexpand(node: Any) -> Any:
    """Expandable fields as webhooks send them: the id, not the expanded object (``x-expansionResources``)."""
    if isinstance(node, list):
        return [unexpand(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "x-expansionResources" in node and isinstance(node.get("anyOf"), list):
        ids = [b for b in node["anyOf"] if isinstance(b, dict) and b.get("type") == "string"]
        if ids:
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "x-expansionResources")}
            return {**rest, **ids[0]}
    return {key: unexpand(value) for key, value in node.items()}


def stripe_envelope(event: str, resource: str, version: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The documented Event envelope (docs.stripe.com/api/events/object) around one resource, in its state."""
    pinned = {name: {"const": value} for name, value in STRIPE_STATES.get(event, {}).items() if name in fields}
    state = {"properties": pinned} if pinned else {}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[A-Za-z0-9]{24}$"},
            "object": {"const": "event"},
            "account": {"type": "string", "pattern": "^acct_[A-Za-z0-9]{16}$"},
            "api_version": {"type": "string", "enum": [version]},
            "created": {"type": "integer", "minimum": 0, "x-time": "unix"},
            "data": {
                "type": "object",
                "properties": {
                    "object": {"$ref": f"../defs.schema.json#/$defs/{resource}", **state},
                    "previous_attributes": {"type": "object"},
                },
                "required": ["object"],
            },
            "livemode": {"type": "boolean"},
            "pending_webhooks": {"type": "integer", "minimum": 0, "maximum": 16},
            "request": {"$ref": "../defs.schema.json#/$defs/request"},
            "type": {"const": event},
        },
        "required": [
            "id",
            "object",
            "api_version",
            "created",
            "data",
            "livemode",
            "pending_webhooks",
            "request",
            "type",
        ],
    }


STRIPE_REQUEST = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": ["string", "null"], "pattern": "^req_[A-Za-z0-9]{14}$"},
        "idempotency_key": {"type": ["string", "null"]},
    },
    "required": ["id", "idempotency_key"],
}


def refresh_stripe(spec: Path, version: str | None, base: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """The stripe folder's files from Stripe's OpenAPI description, as ``{relative path: JSON text}``."""
    from harness.importers._document import Documents
    from harness.importers._schema import SchemaConverter

    doc = read_document(spec)
    if not isinstance(doc, dict) or "components" not in doc:
        raise RefreshError(f"{spec}: not an OpenAPI description (no components).")
    version = version or str((doc.get("info") or {}).get("version") or "unknown")
    pairs, dropped, origin = stripe_event_types(doc)
    schemas = doc["components"]["schemas"]
    doc["components"]["schemas"] = {name: unexpand(value) for name, value in schemas.items()}
    with tempfile.TemporaryDirectory() as tmp:
        location = Path(tmp) / "spec.json"
        location.write_text(json.dumps(doc), "utf-8")
        converter = SchemaConverter(Documents(location))
        for _, resource in pairs:
            converter.event_schema({"$ref": f"#/components/schemas/{resource}"}, str(location), resource)
    defs = {name: strip_annotations(value) for name, value in converter.defs.items()}
    names = {resource: converter._names[(str(location), f"/components/schemas/{resource}")] for _, resource in pairs}
    for resource, def_name in names.items():
        prefix = STRIPE_ID_PREFIXES.get(schemas[resource].get("x-resourceId", resource))
        props = defs[def_name].get("properties") or {}
        if prefix and isinstance(props.get("id"), dict):
            props["id"] = {**props["id"], "pattern": f"^{re.escape(prefix)}[A-Za-z0-9]{{14,24}}$"}
    for node in [n for d in defs.values() for n in schema_nodes(d)]:
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and sub.get("type") == "string" and not {"enum", "pattern"} & set(sub):
                if name == "currency" or name.endswith("_currency"):
                    sub["enum"] = STRIPE_CURRENCIES
                elif name == "country" or name.endswith("_country"):
                    sub["pattern"] = "^[A-Z]{2}$"
        if node.get("format") == "unix-time":
            node["x-time"] = "unix"  # Stripe's timestamps: Unix seconds, drawn near "now"
        narrow_sizes(node)
    errors = defs.get("api_errors", {}).get("properties", {})
    for name in STRIPE_ERROR_OBJECTS:  # an error names the object it is about by its own fields, not a nested copy
        if name in errors and name not in defs["api_errors"].get("required", ()):
            errors[name] = False
    separate_one_of(list(defs.values()), defs)
    defs["request"] = STRIPE_REQUEST
    defs_doc = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{BASE_URI}/stripe/defs.schema.json",
        "$defs": dict(sorted(defs.items())),
    }
    events: dict[str, Any] = {}
    files: dict[str, str] = {}
    old_events = base.get("events") or {}
    kept_samples = 0
    for event, resource in pairs:
        slug = re.sub(r"[^a-z0-9]+", "_", event.lower()).strip("_")
        schema = {
            "$schema": SCHEMA_DIALECT,
            "$id": f"{BASE_URI}/stripe/events/{slug}.schema.json",
            "title": event,
            "x-event-type": event,
            **stripe_envelope(event, names[resource], version, defs[names[resource]].get("properties") or {}),
        }
        valid, _ = sample_maker(schema, defs_doc)
        samples = []
        documented = (old_events.get(event) or {}).get("samples", []) if event in STRIPE_DOCUMENTED else []
        for path in documented:  # a documented sample still valid is kept
            try:
                old = json.loads((folder / path).read_text("utf-8"))
            except (OSError, ValueError):
                continue
            old["api_version"] = version
            if valid(old):
                samples.append(old)
        kept_samples += bool(samples)
        if not samples:
            samples = [generated_sample(event, schema, defs_doc)]
        files[f"events/{slug}.schema.json"] = dump(schema)
        paths = [f"samples/{slug}{'' if i == 0 else f'_{i + 1}'}.json" for i in range(len(samples))]
        for path, sample in zip(paths, samples, strict=True):
            files[path] = dump(sample, compact=True)
        entry: dict[str, Any] = {"schema": f"events/{slug}.schema.json", "samples": paths}
        old_description = (old_events.get(event) or {}).get("description")
        entry["description"] = old_description or f"Occurs on {event}: data.object is a {resource}."
        events[event] = entry
    files["defs.schema.json"] = dump(defs_doc, compact=True)
    catalog = {
        "description": f"Stripe's OpenAPI description ({spec.name}); event types from {origin}",
        "source": "https://github.com/stripe/openapi",
        "version": version,
        "refresh": "python scripts/refresh_catalog.py stripe --from spec3.json",
        "event_types": len(events),
        "dropped": dict(sorted(dropped.items())),
    }
    assumptions = {
        "events": (
            f"{len(events)} event types from Stripe's OpenAPI description (API version {version}), each data.object "
            "typed by the resource schema its type names (docs.stripe.com/api/events/types; the aliases are in "
            "scripts/refresh_catalog.py). Expandable fields are their id (webhooks send them unexpanded); ids carry "
            "the documented prefix where Stripe documents one; descriptions are dropped; the object's state fields "
            "are pinned for the types whose state Stripe documents (invoice.paid: status paid...; STRIPE_STATES in "
            "the script); currency fields are one of 15 common ISO codes and country fields two capitals. Narrowed "
            "for realistic "
            f"sizes (every body stays valid against the description): free text up to {MAX_TEXT} characters, "
            f"open-ended lists up to {MAX_ITEMS} items, and an API error (last_payment_error...) without the "
            "optional embedded payment_intent, payment_method, setup_intent and source objects."
        ),
        "samples": (
            "Stripe publishes resource fixtures and API-reference examples, not per-event webhook bodies: "
            f"{kept_samples} types keep a documented object (stripe/openapi fixtures3.json or the API reference "
            "example) wrapped in the documented Event envelope, its state fields set to the event's state; "
            f"{len(events) - kept_samples} carry a payload generated (seeded) from the schema."
        ),
        "api_version": (
            f"The event schemas follow API version {version} (the description's). From 2025-03-31.basil Stripe "
            "moved subscription current_period_* onto the items and removed invoice.paid/subscription/charge/"
            "payment_intent; an endpoint pinned to another version receives that version's shapes. Refresh from a "
            "newer spec3.json to follow it."
        ),
    }
    return {"events": events, "files": files, "catalog": catalog, "assumptions": assumptions}


# ------------------------------------------------------------------------------------------------------------- slack

# The types whose inner event the existing profile models field by field from Slack's per-event pages (kept, with their
# documented samples while still valid); every other type's inner event is what the description states: type and
# event_ts (open to the fields each event page lists).
SLACK_DOCUMENTED = ("message", "app_mention", "reaction_added")
SLACK_HANDSHAKE = "url_verification"
SLACK_SAMPLING = {"common": list(SLACK_DOCUMENTED), "size": 6, "seed": 27}
SLACK_DEFS = "../defs.schema.json#/$defs/"
# The event_callback envelope (api.slack.com/apis/events-api#callback-field): the ids carry Slack's documented prefixes.
SLACK_ENVELOPE: dict[str, Any] = {
    "token": {"type": "string", "pattern": "^[A-Za-z0-9]{24}$"},
    "team_id": {"$ref": SLACK_DEFS + "team_id"},
    "enterprise_id": {"$ref": SLACK_DEFS + "enterprise_id"},
    "context_team_id": {"type": ["string", "null"], "pattern": "^T[A-Z0-9]{8,10}$"},
    "context_enterprise_id": {"type": ["string", "null"], "pattern": "^E[A-Z0-9]{8,10}$"},
    "api_app_id": {"type": "string", "pattern": "^A[A-Z0-9]{8,10}$"},
    "type": {"const": "event_callback"},
    "event_id": {"type": "string", "pattern": "^Ev[A-Z0-9]{8,12}$"},
    "event_time": {"type": "integer", "minimum": 0, "x-time": "unix"},
    "authorizations": {
        "type": "array",
        "items": {"$ref": SLACK_DEFS + "authorization"},
        "minItems": 1,
        "maxItems": 1,
    },
    "authed_users": {
        "type": "array",
        "items": {"$ref": SLACK_DEFS + "user_id"},
        "minItems": 1,
        "maxItems": 3,
        "uniqueItems": True,
    },
    "is_ext_shared_channel": {"type": "boolean"},
    "event_context": {"type": "string", "pattern": "^([0-9]+-[A-Za-z0-9_=-]{16,120}|EC[A-Z0-9]{5,12})$"},
}
SLACK_SUBSCRIPTION_CHANNELS = {
    "channels": "channel",
    "groups": "group",
    "im": "im",
    "mpim": "mpim",
    "app_home": "app_home",
}


def slack_topics(doc: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Event type -> the description's topics that deliver it (``message.channels`` delivers ``message``), and the
    topics not imported with why. The type is the event page the topic documents (``/events/app_mention``)."""
    types: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    for topic, item in sorted((doc.get("topics") or {}).items()):
        operation = item.get("subscribe") if isinstance(item, dict) else None
        if not isinstance(operation, dict):
            dropped[topic] = "no subscribe operation (nothing is delivered)"
            continue
        url = str((operation.get("externalDocs") or {}).get("url") or "")
        page = url.rstrip("/").rsplit("/events/", 1)[-1] if "/events/" in url else topic.replace(".", "_")
        event = page.split(".", 1)[0]  # message.channels, message.im...: subscriptions to the message event
        if not re.fullmatch(r"[a-z][a-z0-9_]*", event):
            dropped[topic] = f"its event page {url!r} names no event type"
            continue
        types.setdefault(event, []).append(topic)
    return types, dropped


def slack_wrapper(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The description's event wrapper (components.schemas.GenericEventWrapper), annotations dropped."""
    wrapper = ((doc.get("components") or {}).get("schemas") or {}).get("GenericEventWrapper")
    if not isinstance(wrapper, dict) or "properties" not in wrapper:
        raise RefreshError("no components.schemas.GenericEventWrapper (is it Slack's Events API AsyncAPI document?)")
    wrapper = json.loads(json.dumps(wrapper))
    for node in schema_nodes(wrapper):
        for key in ("title", "x-examples"):
            node.pop(key, None)
    stripped: dict[str, Any] = strip_annotations(wrapper)
    return stripped


def slack_event_schema(event: str, inner: dict[str, Any], wrapper: Mapping[str, Any]) -> dict[str, Any]:
    """One type's schema: the envelope around its inner event, requiring what the description requires."""
    inner = json.loads(json.dumps(inner))
    inner.setdefault("properties", {})["type"] = {"const": event}
    inner["properties"].setdefault("event_ts", {"$ref": SLACK_DEFS + "ts"})
    required = list(inner.get("required") or ["type"])
    inner_required = (wrapper["properties"].get("event") or {}).get("required") or []
    inner["required"] = required + [name for name in inner_required if name not in required]
    required = list(wrapper.get("required") or [])
    invariants: list[dict[str, Any]] = []
    if "ts" in inner["properties"] and "ts" in inner["required"] and event != "reaction_added":
        invariants.append({"copy": "/event/ts", "to": "/event/event_ts"})
    invariants.append({"copy": "/event/event_ts", "to": "/event_time", "as": "unix"})
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{BASE_URI}/slack/events/{event}.schema.json",
        "title": event,
        "x-event-type": event,
        "type": "object",
        "properties": {**SLACK_ENVELOPE, "event": inner},
        "required": [*required, *(n for n in ("token", "type", "event") if n not in required)],
        "x-invariants": invariants,
    }


def refresh_slack(spec: Path, version: str | None, base: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """The slack folder's files from Slack's Events API AsyncAPI description, as ``{relative path: JSON text}``."""
    from jsonschema import Draft7Validator

    doc = read_document(spec)
    if not isinstance(doc, dict) or ("topics" not in doc and "channels" not in doc):
        raise RefreshError(f"{spec}: not an AsyncAPI description (no topics or channels).")
    if "topics" not in doc:
        raise RefreshError(f"{spec}: AsyncAPI {doc.get('asyncapi')} channels are not read; give the 1.x document.")
    version = version or f"AsyncAPI {doc.get('asyncapi')}, info.version {(doc.get('info') or {}).get('version')}"
    wrapper = slack_wrapper(doc)
    described = Draft7Validator(wrapper)
    types, dropped = slack_topics(doc)
    if SLACK_HANDSHAKE not in types:
        raise RefreshError("the description has no url_verification topic (the handshake).")
    old_events = base.get("events") or {}
    try:
        defs_doc = json.loads((folder / "defs.schema.json").read_text("utf-8"))
        handshake = old_events[SLACK_HANDSHAKE]
        handshake_files = {
            path: (folder / path).read_text("utf-8") for path in [handshake["schema"], *handshake["samples"]]
        }
    except (OSError, ValueError, KeyError) as exc:
        raise RefreshError(
            f"{folder}: the hand-written defs and url_verification handshake are missing ({exc})"
        ) from None
    files: dict[str, str] = {"defs.schema.json": dump(defs_doc), **handshake_files}
    events: dict[str, Any] = {}
    kept_samples = 0
    for event in sorted(
        types, key=lambda name: (SLACK_DOCUMENTED.index(name) if name in SLACK_DOCUMENTED else 9, name)
    ):
        if event == SLACK_HANDSHAKE:
            continue
        inner: dict[str, Any] = {"type": "object", "properties": {}, "required": ["type"]}
        described_as = None
        entry = old_events.get(event) or {}
        if event in SLACK_DOCUMENTED and entry:
            try:
                old = json.loads((folder / entry["schema"]).read_text("utf-8"))
                inner = old["properties"]["event"]
                described_as = old.get("description")
            except (OSError, ValueError, KeyError):
                pass
        if event == "message":
            channel_type = inner.get("properties", {}).get("channel_type")
            if isinstance(channel_type, dict) and "enum" in channel_type:
                subscribed = [
                    SLACK_SUBSCRIPTION_CHANNELS.get(t.split(".", 1)[-1].replace(".", "_")) for t in types[event]
                ]
                channel_type["enum"] = sorted(set(channel_type["enum"]) | {c for c in subscribed if c})
        schema = slack_event_schema(event, inner, wrapper)
        if isinstance(described_as, str):
            schema = {**dict(list(schema.items())[:3]), "description": described_as, **dict(list(schema.items())[3:])}
        valid, _ = sample_maker(schema, defs_doc)
        samples = []
        for path in entry.get("samples", []) if event in SLACK_DOCUMENTED else []:
            try:
                sample = json.loads((folder / path).read_text("utf-8"))
            except (OSError, ValueError):
                continue
            if "authed_users" not in sample:  # the description requires it; Slack sends the installing user
                user = ((sample.get("authorizations") or [{}])[0]).get("user_id")
                sample["authed_users"] = [user or sample["event"].get("user")]
            if valid(sample) and described.is_valid(sample):
                samples.append(sample)
        kept_samples += bool(samples)
        if not samples:
            sample = generated_sample(event, schema, defs_doc)
            for invariant in schema["x-invariants"]:  # what the generators apply at send time, in the sample too
                source = sample["event"].get(invariant["copy"].rsplit("/", 1)[-1])
                if isinstance(source, str) and invariant["to"] == "/event_time":
                    sample["event_time"] = int(float(source))
                elif isinstance(source, str):
                    sample["event"]["event_ts"] = source
            if not valid(sample):
                raise RefreshError(f"{event}: the generated sample breaks the schema once its invariants are applied")
            samples = [sample]
        for sample in samples:
            errors = sorted(e.message for e in described.iter_errors(sample))
            if errors:
                raise RefreshError(f"{event}: sample invalid against the description's wrapper: {errors[0]}")
        files[f"events/{event}.schema.json"] = dump(schema)
        paths = [f"samples/{event}{'' if i == 0 else f'_{i + 1}'}.json" for i in range(len(samples))]
        for path, sample in zip(paths, samples, strict=True):
            files[path] = dump(sample, compact=event not in SLACK_DOCUMENTED)
        topics = ", ".join(types[event])
        out: dict[str, Any] = {"schema": f"events/{event}.schema.json", "samples": paths}
        out["description"] = entry.get("description") or f"Delivered to subscriptions of the {topics} topic."
        if event not in SLACK_DOCUMENTED and not entry.get("description"):
            summary = ((doc["topics"][types[event][0]].get("subscribe") or {}).get("summary") or "").strip()
            if summary:
                out["description"] = summary.rstrip(".") + "."
        events[event] = out
    events[SLACK_HANDSHAKE] = handshake
    merged = {event: topics for event, topics in types.items() if len(topics) > 1}
    catalog = {
        "description": (
            "Slack's Events API AsyncAPI description (events-api/slack_events_api_async_v1.json): one type per "
            "topic's event page; "
            + "; ".join(f"{', '.join(t)} deliver {e}" for e, t in sorted(merged.items()))
            + "; url.verification is the profile's handshake"
        ),
        "source": "https://github.com/slackapi/slack-api-specs",
        "version": version,
        "refresh": "python scripts/refresh_catalog.py slack --from slack_events_api_async_v1.json --version 'VERSION'",
        "event_types": len(events),
        "dropped": dict(sorted(dropped.items())),
    }
    assumptions = {
        "events": (
            f"{len(events)} event types from Slack's Events API description ({version}), one per topic's event "
            "page; the message.channels/groups/im/mpim/app_home topics are subscriptions to the one message event "
            "(event.channel_type tells them apart). The description types every topic with the same "
            "GenericEventWrapper (the inner event states only type and event_ts); message, app_mention and "
            "reaction_added keep the inner event modelled from their event pages, the others carry type and "
            "event_ts only. Every body is valid against the wrapper (authed_users required, as it states). The "
            "message topic's own payload is a generated message_deleted example (deleted_ts, previous_message "
            "with a file required), narrower than the wrapper every other message subscription uses: messages are "
            "checked against the wrapper. app_rate_limited is modelled as the description states (an "
            "event_callback), though Slack's event page shows it as a top-level type. The description was last "
            "updated in October 2020: event types Slack added since (app_home_opened, channel_id_changed...) are "
            "not in it, so not in this catalog."
        ),
        "samples": (
            f"{kept_samples} types keep their documented sample (authed_users added where it lacked one); "
            f"{len(events) - 1 - kept_samples} carry a payload generated (seeded) from the schema."
        ),
        "catalog": (
            "Imported from Slack's official AsyncAPI description of the Events API by scripts/refresh_catalog.py "
            "slack (catalog block); url_verification stays the hand-written handshake."
        ),
    }
    return {"events": events, "files": files, "catalog": catalog, "assumptions": assumptions}


# -------------------------------------------------------------------------------------------------------------- main


def write_folder(folder: Path, base: Mapping[str, Any], made: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the folder's catalog files and profile (the rest of the profile kept); prove the folder loads."""
    profile = dict(base)
    profile["events"] = made["events"]
    profile["catalog"] = made["catalog"]
    if "event_type" in made:
        profile["event_type"] = made["event_type"]
    profile["assumptions"] = {**base.get("assumptions", {}), **made["assumptions"]}
    missing = [
        name
        for name in [
            *(base.get("sampling") or {}).get("common", []),
            *(s["event"] for lc in (base.get("lifecycles") or {}).values() for s in lc["steps"]),
        ]
        if name not in made["events"]
    ]
    if missing:
        raise RefreshError(f"the profile names event types the description no longer has: {', '.join(missing)}")
    staged = Path(tempfile.mkdtemp(prefix=f".{folder.name}-refresh-", dir=folder.parent))
    try:
        target = staged / folder.name
        target.mkdir()
        for relative, text in {**made["files"], "profile.json": dump(profile)}.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        for extra in ("README.md",):
            if (folder / extra).is_file():
                shutil.copy2(folder / extra, target / extra)
        from harness.catalog import load_catalog

        provider = load_catalog(staged, cached=False).get(folder.name)  # the proof: it loads and validates
        for name in provider.events:
            provider.validator(name).validate(provider.events[name].samples[0])
        old = staged / "old"
        if folder.exists():
            folder.rename(old)
        target.rename(folder)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return profile


def main(argv: list[str] | None = None) -> int:
    """Refresh one provider's folder; a bad description is one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", choices=["github", "stripe", "slack"])
    parser.add_argument("--from", dest="spec", required=True, type=Path, metavar="FILE", help="the description")
    parser.add_argument("--version", help="the description's version (default: the package's or info.version)")
    parser.add_argument("--out", type=Path, default=ROOT / "schemas", metavar="DIR", help="the catalog folder")
    parser.add_argument(
        "--base", type=Path, metavar="PROFILE", help="the profile whose facts are kept (default: OUT/PROVIDER's)"
    )
    args = parser.parse_args(argv)
    from harness.errors import HarnessError

    folder = args.out / args.provider
    base_path = args.base or (folder / "profile.json")
    try:
        if not args.spec.is_file():
            raise RefreshError(f"{args.spec}: no such file")
        if not base_path.is_file():
            raise RefreshError(f"{base_path}: no profile to keep the delivery facts from (give --base)")
        base = json.loads(base_path.read_text("utf-8"))
        if args.provider == "github":
            made = refresh_github(args.spec, args.version, base)
        elif args.provider == "slack":
            base = {**base, "sampling": base.get("sampling") or SLACK_SAMPLING}
            made = refresh_slack(args.spec, args.version, base, base_path.parent)
        else:
            made = refresh_stripe(args.spec, args.version, base, base_path.parent)
        args.out.mkdir(parents=True, exist_ok=True)
        profile = write_folder(folder, base, made)
    except (RefreshError, HarnessError) as exc:
        sys.stderr.write(f"refresh_catalog: {exc}\n")
        return 2
    dropped = profile["catalog"]["dropped"]
    sys.stdout.write(f"Wrote {folder}: {len(profile['events'])} event types from {profile['catalog']['version']}.\n")
    for key, why in dropped.items():
        sys.stdout.write(f"  not imported: {key}: {why}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
