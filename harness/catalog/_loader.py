"""Load provider folders: validate each profile, check each schema, build a $ref registry."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.catalog._model import (
    AuthSpec,
    BodySpec,
    Catalog,
    EventType,
    HandshakeSpec,
    HmacSpec,
    Location,
    Provider,
    RetrySpec,
)
from harness.core.durations import parse_duration
from harness.core.merge import deep_merge
from harness.errors import SchemaLoadError, UsageError

__all__ = ["builtin_schemas_dir", "load_catalog"]

_META = Draft202012Validator(json.loads((Path(__file__).parent / "profile.schema.json").read_text("utf-8")))
_SEPARATORS = {"compact": (",", ":"), "default": (", ", ": ")}


def builtin_schemas_dir() -> Path:
    """The built-in catalog: packaged inside the wheel, or ``schemas/`` beside the source tree."""
    packaged = Path(__file__).resolve().parents[1] / "_catalog_data" / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaLoadError(f"{path}: file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaLoadError(f"{path}: cannot be read ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise SchemaLoadError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None


def _location(spec: Mapping[str, Any]) -> Location:
    return Location(
        where=spec["in"],
        pointer=spec.get("pointer", ""),
        name=spec.get("name", ""),
        per_event=bool(spec.get("per_event", False)),
    )


def _retry(block: Mapping[str, Any], profile_path: Path) -> RetrySpec:
    """The profile's ``retry`` block as a typed spec; a bad value names the profile."""
    try:
        return RetrySpec.parse(block)
    except UsageError as exc:
        raise SchemaLoadError(f"{profile_path}: {exc}") from None


_CONTENT_FIELDS = ("body", "timestamp", "id")
_FIELD = re.compile(r"\{([^{}]*)\}")


def _hmac_spec(path: Path, name: str, raw: Mapping[str, Any]) -> HmacSpec:
    """One declarative HMAC scheme, its templates checked: every field is one the signer knows how to fill."""
    where = f"{path}: auth.hmac.{name}"
    content = raw.get("content", "{body}")
    for field_name in _FIELD.findall(content):
        if field_name not in _CONTENT_FIELDS and not (field_name.startswith("header:") and len(field_name) > 7):
            known = "{body}, {timestamp}, {id}, {header:NAME}"
            raise SchemaLoadError(f"{where}.content: unknown field {{{field_name}}} (known: {known}).")
    if "{body}" not in content:
        raise SchemaLoadError(f"{where}.content: the signed content must include {{body}}.")
    if "prefix" in raw and "format" in raw:
        raise SchemaLoadError(f"{where}: give either prefix or format, not both.")
    form = raw.get("format", raw.get("prefix", "") + "{signature}")
    for field_name in _FIELD.findall(form):
        if field_name not in ("signature", "timestamp"):
            raise SchemaLoadError(
                f"{where}.format: unknown field {{{field_name}}} (known: {{signature}}, {{timestamp}})."
            )
    if form.count("{signature}") != 1:
        raise SchemaLoadError(f"{where}.format: must contain {{signature}} exactly once.")
    stamp = raw.get("timestamp", {})
    if "{timestamp}" in content and "header" not in stamp and "{timestamp}" not in form:
        raise SchemaLoadError(f"{where}: the content signs {{timestamp}}, so timestamp.header or a format with it.")
    if "{id}" in content and "id" not in raw:
        raise SchemaLoadError(f"{where}: the content signs {{id}}, so id.header must name the header that carries it.")
    separator = raw.get("separator")
    if separator is not None and any(separator in part for part in _FIELD.split(form)[1::2]):
        raise SchemaLoadError(f"{where}.separator: must not occur inside a field name.")
    return HmacSpec(
        header=raw["header"],
        algorithm=raw.get("algorithm", "sha256"),
        encoding=raw.get("encoding", "hex"),
        format=form,
        separator=separator,
        content=content,
        secret=raw.get("secret", "raw"),
        secret_prefix=raw.get("secret_prefix", ""),
        timestamp_header=stamp.get("header"),
        timestamp_format=stamp.get("format", "unix"),
        reject_future=stamp.get("future", "reject") == "reject",
        id_header=raw.get("id", {}).get("header"),
    )


def _load_provider(folder: Path, overrides: Mapping[str, Any]) -> Provider:
    profile_path = folder / "profile.json"
    raw = _read_json(profile_path)
    if overrides:
        raw = deep_merge(raw, overrides)
    errors = sorted(_META.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise SchemaLoadError(f"{profile_path}: invalid profile at {where}: {first.message}")
    if raw["id"] != folder.name:
        raise SchemaLoadError(f"{profile_path}: id {raw['id']!r} does not match its folder name {folder.name!r}.")

    resources = []
    for path in sorted(folder.rglob("*.schema.json")):
        doc = _read_json(path)
        try:
            Draft202012Validator.check_schema(doc)
        except SchemaError as exc:
            raise SchemaLoadError(f"{path}: not a valid JSON Schema: {exc.message}") from None
        uri = doc.get("$id") or path.resolve().as_uri()
        resources.append((uri, Resource.from_contents(doc, default_specification=DRAFT202012)))
    registry: Registry = Registry().with_resources(resources)

    events: dict[str, EventType] = {}
    for name, entry in raw["events"].items():
        schema_path = folder / entry["schema"]
        schema = _read_json(schema_path)
        samples = tuple(_read_json(folder / s) for s in entry["samples"])
        events[name] = EventType(
            name=name,
            schema=schema,
            schema_path=schema_path,
            samples=samples,
            role=entry.get("role", "event"),
            headers=entry.get("headers", {}),
            description=entry.get("description", ""),
        )

    body = raw["body"]
    batch = body.get("batch", {})
    auth = raw["auth"]
    oauth = auth.get("oauth", {})
    handshake = raw.get("handshake")
    if handshake and handshake["event"] not in events:
        raise SchemaLoadError(f"{profile_path}: handshake event {handshake['event']!r} is not in events.")
    reply = raw.get("reply")
    return Provider(
        id=raw["id"],
        title=raw["title"],
        sources=tuple(raw["sources"]),
        method=raw["method"],
        content_type=raw["content_type"],
        body=BodySpec(
            shape=body["shape"],
            max_bytes=body["max_bytes"],
            separators=_SEPARATORS[body.get("separators", "compact")],
            sort_keys=body.get("sort_keys", False),
            suffix=body.get("suffix", ""),
            layout=body.get("layout", "flat"),
            batch_max_events=batch.get("max_events"),
            batch_max_bytes=batch.get("max_bytes"),
            flush_interval=parse_duration(batch["flush_interval"]) if "flush_interval" in batch else None,
        ),
        event_type=_location(raw["event_type"]),
        events=events,
        headers=raw["headers"],
        idempotency_key=_location(raw["idempotency_key"]),
        auth=AuthSpec(
            schemes=tuple(auth["schemes"]),
            tolerance=parse_duration(auth["tolerance"]) if auth.get("tolerance") else None,
            oauth_credentials_in=oauth.get("credentials_in", "basic"),
            oauth_scope=oauth.get("scope"),
            hmac={name: _hmac_spec(profile_path, name, spec) for name, spec in auth.get("hmac", {}).items()},
        ),
        timeout=parse_duration(raw["timeout"]),
        retry=_retry(raw["retry"], profile_path),
        handshake=HandshakeSpec(kind=handshake["kind"], event=handshake["event"]) if handshake else None,
        reply_schema=_read_json(folder / reply["schema"]) if reply else None,
        assumptions=raw["assumptions"],
        root=folder,
        registry=registry,
        raw=raw,
    )


def _provider_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise SchemaLoadError(f"{root}: schemas folder not found.")
    folders = sorted(p for p in root.iterdir() if (p / "profile.json").is_file())
    if not folders and (root / "profile.json").is_file():
        folders = [root]
    return folders


@lru_cache(maxsize=8)
def _load_cached(roots: tuple[Path, ...], overrides_json: str) -> Catalog:
    overrides: dict[str, Any] = json.loads(overrides_json)
    providers: dict[str, Provider] = {}
    for root in roots:
        folders = _provider_folders(root)
        if root != roots[0] and not folders:
            raise SchemaLoadError(f"{root}: no provider folders (a folder with a profile.json) found.")
        for folder in folders:
            providers[folder.name] = _load_provider(folder, overrides.get(folder.name, {}))
    return Catalog(providers=providers, sources=roots)


def load_catalog(
    schemas: Path | str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    cached: bool = True,
) -> Catalog:
    """Load the built-in catalog, plus a user's folder whose providers replace or add to it.

    ``overrides`` maps a provider id to profile keys deep-merged over its profile (from the config file).
    ``cached=False`` reads the folders again (for a folder that was just written, as ``import`` does).
    """
    roots = [builtin_schemas_dir()]
    if schemas is not None:
        roots.append(Path(schemas).expanduser().resolve())
    key = (tuple(roots), json.dumps(overrides or {}, sort_keys=True))
    if not cached:
        _load_cached.cache_clear()
    return _load_cached(*key)
