"""Load provider folders: validate each profile, check each schema, build a $ref registry."""

from __future__ import annotations

import json
import math
import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # the standard library's own regex parser
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import regex

from harness.catalog._model import (
    AuthSpec,
    BodySpec,
    Catalog,
    CertificateSpec,
    EventType,
    HandshakeSpec,
    HmacSpec,
    Lifecycle,
    Location,
    OidcSpec,
    Provider,
    RetrySpec,
)
from harness.core.durations import parse_duration
from harness.core.files import read_text
from harness.core.merge import deep_merge
from harness.errors import SchemaLoadError, UsageError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = ["builtin_schemas_dir", "load_catalog"]

_SEPARATORS = {"compact": (",", ":"), "default": (", ", ": ")}
MAX_FILE_BYTES = 16 * 1024 * 1024  # one schema, sample or profile file
MAX_DEPTH = 64  # nesting of a JSON document in the catalog
MAX_MINIMUM = 100_000  # a minLength/minItems/minProperties, or a pattern's shortest match: generated values stay small
MAX_TIMEOUT = 3600.0  # a profile's reply timeout
MAX_SPAN = 366 * 86400.0  # any other duration in a profile
_SIZE_KEYS = ("minLength", "minItems", "minProperties")


def builtin_schemas_dir() -> Path:
    """The built-in catalog: packaged inside the wheel, or ``schemas/`` beside the source tree."""
    packaged = Path(__file__).resolve().parents[1] / "_catalog_data" / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


@lru_cache(maxsize=1)
def _meta_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    """The validator for profile.json files."""
    return Draft202012Validator(json.loads((Path(__file__).parent / "profile.schema.json").read_text("utf-8")))


@lru_cache(maxsize=4096)
def _check_against_metaschema(canonical: str) -> None:
    """Raise ``SchemaError`` unless the document (canonical JSON text) is a valid 2020-12 schema; a valid one is
    remembered for the process (a re-read folder, a copied provider: the same files are not checked twice)."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(canonical))


def _read_json(path: Path) -> Any:
    text = read_text(path, SchemaLoadError, max_bytes=MAX_FILE_BYTES)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaLoadError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None
    except RecursionError:
        raise SchemaLoadError(f"{path}: nested more than {MAX_DEPTH} levels deep.") from None
    if _depth(doc) > MAX_DEPTH:
        raise SchemaLoadError(f"{path}: nested more than {MAX_DEPTH} levels deep.")
    return doc


def _depth(doc: Any) -> int:
    """How deeply arrays and objects nest (level by level: a deep document cannot exhaust the stack here)."""
    level, containers = 0, [doc] if isinstance(doc, dict | list) else []
    while containers:
        level += 1
        if level > MAX_DEPTH:
            return level
        children = [c for node in containers for c in (node.values() if isinstance(node, dict) else node)]
        containers = [c for c in children if isinstance(c, dict | list)]
    return level


def _inside(folder: Path, relative: str, what: str, profile_path: Path) -> Path:
    """``folder / relative``, refused when it leaves the provider folder (absolute, ``..``, or a symlink out)."""
    path = folder / relative
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        raise SchemaLoadError(f"{profile_path}: the {what} {relative!r} is outside the provider folder.") from None
    return path


def _nodes(doc: Any) -> Iterator[Mapping[str, Any]]:
    """Every object in a JSON document (iteratively)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _constant(registry: Registry) -> Callable[[], Registry]:
    """A registry already built, as the loader the provider keeps."""
    return lambda: registry


def _check_schema_doc(path: Path, doc: Any, base_uri: str, registry: Registry) -> None:
    """References that resolve inside the catalog, sizes that can be generated, patterns that compile."""
    from referencing.exceptions import Unresolvable

    resolver = registry.resolver(base_uri=base_uri)
    for node in _nodes(doc):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                target = resolver.lookup(ref)
            except Unresolvable:
                if urlsplit(ref).scheme in ("http", "https", "file", "ftp"):
                    raise SchemaLoadError(
                        f"{path}: $ref {ref!r} points outside the provider folder; references are never fetched."
                    ) from None
                raise SchemaLoadError(f"{path}: $ref {ref!r} does not resolve to a schema in the folder.") from None
            _check_ref_chain(path, ref, target)
        for key in _SIZE_KEYS:
            value = node.get(key)
            if isinstance(value, int | float) and value > MAX_MINIMUM:
                raise SchemaLoadError(f"{path}: {key} {value} is over {MAX_MINIMUM:,} (generated values stay small).")
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            _check_pattern(path, pattern)


def _finite(schema: Any, resolver: Any) -> bool:
    """Whether the schema admits a finite value: no required property or item leads back into itself forever.

    A depth-first walk along what a value must contain (required properties, ``minItems`` items, ``$ref``s, every
    ``allOf`` part, some ``anyOf``/``oneOf`` branch); a node met again on the current path is a cycle. Only ``True``
    results are remembered (a ``False`` may hinge on a node still being decided); a visit budget keeps it bounded.
    """
    finite_ids: set[int] = set()
    on_path: set[int] = set()
    budget = [100_000]

    def walk(node: Any, res: Any) -> bool:
        if not isinstance(node, Mapping) or id(node) in finite_ids:
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return True  # too large to decide: generation's own limits apply
        if id(node) in on_path:
            return False
        on_path.add(id(node))
        try:
            ok = _walk_node(node, res, walk)
        finally:
            on_path.discard(id(node))
        if ok:
            finite_ids.add(id(node))
        return ok

    return walk(schema, resolver)


def _walk_node(node: Mapping[str, Any], res: Any, walk: Any) -> bool:
    from referencing.exceptions import Unresolvable

    if isinstance(node.get("$ref"), str):
        try:
            target = res.lookup(node["$ref"])
        except Unresolvable:
            return True  # reported by the reference check
        if not walk(target.contents, target.resolver):
            return False
    if any(k in node for k in ("const", "enum")):
        return True
    for part in node.get("allOf") or ():
        if not walk(part, res):
            return False
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and options and not any(walk(option, res) for option in options):
            return False
    props: Mapping[str, Any] = node["properties"] if isinstance(node.get("properties"), Mapping) else {}
    extra = node.get("additionalProperties", True)
    for name in node.get("required") or ():
        if not walk(props.get(name, extra), res):
            return False
    min_items = node.get("minItems", 0)
    if isinstance(min_items, int) and min_items > 0 and not walk(node.get("items", True), res):
        return False
    return True


def _check_ref_chain(path: Path, ref: str, target: Any) -> None:
    """A ``$ref`` that leads only to more ``$ref``s (``a`` -> ``b`` -> ``a``) never reaches a schema."""
    from referencing.exceptions import Unresolvable

    seen = 0
    resolved = target
    while isinstance(resolved.contents, Mapping) and isinstance(resolved.contents.get("$ref"), str):
        seen += 1
        if seen > 32:
            raise SchemaLoadError(f"{path}: $ref {ref!r} is a cycle of references that never reaches a schema.")
        try:
            resolved = resolved.resolver.lookup(resolved.contents["$ref"])
        except Unresolvable:
            raise SchemaLoadError(f"{path}: $ref {resolved.contents['$ref']!r} does not resolve.") from None


def _check_pattern(path: Path, pattern: str) -> None:
    """The pattern compiles (for matching and for generation) and its shortest match is small."""
    try:
        low, _ = sre_parse.parse(pattern).getwidth()  # first: compiling a{1000000000} would take gigabytes
        if low > MAX_MINIMUM:
            raise SchemaLoadError(
                f"{path}: the pattern {pattern[:40]!r} needs at least {low:,} characters (over {MAX_MINIMUM:,})."
            )
        regex.compile(pattern)
    except (regex.error, re.error, OverflowError, RecursionError) as exc:
        raise SchemaLoadError(f"{path}: the pattern {pattern!r} is not a usable regular expression ({exc}).") from None


def _duration(profile_path: Path, text: Any, where: str, high: float) -> float:
    """A profile duration, finite and at most ``high`` seconds."""
    try:
        value = parse_duration(text, what=f"{where} duration")
    except ValueError as exc:
        raise SchemaLoadError(f"{profile_path}: {exc}") from None
    if not math.isfinite(value) or value > high:
        raise SchemaLoadError(f"{profile_path}: {where} {text!r} is not a duration up to {high:g} seconds.")
    return value


def _check_retry(profile_path: Path, retry: Mapping[str, Any]) -> None:
    """The retry block's durations are finite and at most a year, so a simulation always ends."""
    window = retry.get("window")
    if window is not None:
        _duration(profile_path, window, "retry.window", MAX_SPAN)
    backoff = retry.get("backoff")
    if isinstance(backoff, Mapping):
        for index, delay in enumerate(backoff.get("delays") or ()):
            _duration(profile_path, delay, f"retry.backoff.delays[{index}]", MAX_SPAN)
        if backoff.get("max_delay") is not None:
            _duration(profile_path, backoff["max_delay"], "retry.backoff.max_delay", MAX_SPAN)


def _location(spec: Mapping[str, Any]) -> Location:
    return Location(
        where=spec["in"],
        pointer=spec.get("pointer", ""),
        name=spec.get("name", ""),
        per_event=bool(spec.get("per_event", False)),
        action=spec.get("action", ""),
    )


def _retry(block: Mapping[str, Any], profile_path: Path) -> RetrySpec:
    """The profile's ``retry`` block as a typed spec; a bad value names the profile."""
    try:
        return RetrySpec.parse(block)
    except UsageError as exc:
        raise SchemaLoadError(f"{profile_path}: {exc}") from None


_CONTENT_FIELDS = ("body", "params", "timestamp", "id", "url", "method")
_FIELD = re.compile(r"\{([^{}]*)\}")


def _certificate(path: Path, raw: Mapping[str, Any] | None) -> CertificateSpec | None:
    """The certificate hosts, their pattern compiled once here so that a bad one is a load error."""
    if raw is None:
        return None
    try:
        re.compile(raw["host_pattern"])
    except re.error as exc:
        raise SchemaLoadError(f"{path}: auth.certificate.host_pattern is not a regular expression ({exc}).") from None
    return CertificateSpec(
        raw["host_pattern"], tuple(raw.get("test_hosts", ("127.0.0.1",))), str(raw.get("signature_version", "1"))
    )


def _body_format(path: Path, body: Mapping[str, Any]) -> str:
    """``json`` or ``form`` (flat application/x-www-form-urlencoded parameters): a form body is one event."""
    found = str(body.get("format", "json"))
    if found == "form" and body["shape"] != "single":
        raise SchemaLoadError(f"{path}: body.format form carries one event per request (shape single).")
    return found


# The two handshakes that were code before they were data: their old kind names still load, as these descriptions.
_LEGACY_HANDSHAKES: dict[str, dict[str, Any]] = {
    "slack-url-verification": {
        "kind": "challenge-body",
        "match": {"in": "body", "pointer": "/type", "value": "url_verification"},
        "challenge": {"in": "body", "pointer": "/challenge"},
        "reply": {"body": ["json", "raw"], "key": "challenge"},
    },
    "oci-subscription-confirmation": {
        "kind": "confirm-url",
        "match": {"in": "header", "name": "X-OCI-NS-MessageType", "value": "SubscriptionConfirmation"},
        "url": {"pointer": "/ConfirmationURL", "header": "X-OCI-NS-ConfirmationURL"},
    },
}
_BODY_KINDS = ("challenge-body", "confirm-url", "discord-ping", "sns-subscription-confirmation")


def _handshake_spec(path: Path, raw: Mapping[str, Any] | None, events: Mapping[str, Any]) -> HandshakeSpec | None:
    """The profile's ``handshake`` block as a ``HandshakeSpec``, its references checked."""
    if not raw:
        return None
    where = f"{path}: handshake"
    legacy = _LEGACY_HANDSHAKES.get(raw["kind"])
    if legacy is not None:
        raw = {**legacy, **{k: v for k, v in raw.items() if k != "kind"}}
    kind = raw["kind"]
    event = raw.get("event")
    if kind in _BODY_KINDS and not event:
        raise SchemaLoadError(f"{where}: a {kind} handshake names the event whose body it is (handshake.event).")
    if event is not None and event not in events:
        raise SchemaLoadError(f"{where}: handshake event {event!r} is not in events.")
    challenge = raw.get("challenge", {"in": "body", "pointer": "/challenge"})
    name = challenge.get("pointer" if challenge["in"] == "body" else "name")
    if not name:
        raise SchemaLoadError(f"{where}.challenge: a body challenge needs a pointer, the others a name.")
    if challenge["in"] == "body" and not event:
        raise SchemaLoadError(f"{where}.challenge: a challenge in the body needs handshake.event (its message).")
    match = raw.get("match", {})
    reply = raw.get("reply", {})
    forms = tuple(reply.get("body", ()))
    if kind in ("challenge-body", "query-echo", "json-verification") and not forms:
        raise SchemaLoadError(f"{where}.reply.body: a {kind} handshake answers with the challenge (raw or json).")
    if kind == "header-echo" and not reply.get("echo_header"):
        raise SchemaLoadError(f"{where}.reply.echo_header: a header-echo handshake names the header to echo.")
    url = raw.get("url", {})
    if kind == "confirm-url" and not (url.get("pointer") or url.get("header")):
        raise SchemaLoadError(f"{where}.url: a confirm-url handshake says where the URL travels.")
    return HandshakeSpec(
        kind=kind,
        event=event,
        method=raw.get("method", ""),
        challenge_in=challenge["in"],
        challenge_name=name,
        challenge_secret=challenge.get("secret", False),
        match_in=match.get("in", ""),
        match_name=match.get("pointer" if match.get("in") == "body" else "name", ""),
        match_value=match.get("value"),
        reply_status=tuple(reply.get("status", ())),
        reply_body=forms,
        reply_key=reply.get("key", "challenge"),
        reply_echo_header=reply.get("echo_header"),
        reply_content_type=reply.get("content_type"),
        reply_headers=tuple(reply.get("headers", {}).items()),
        timeout=_duration(path, raw["timeout"], "handshake.timeout", MAX_SPAN) if raw.get("timeout") else None,
        signed=raw.get("signed", True),
        url_pointer=url.get("pointer", ""),
        url_header=url.get("header", ""),
    )


def _oidc_spec(path: Path, raw: Mapping[str, Any]) -> OidcSpec:
    """The OIDC token's claims as the profile documents them."""
    lifetime = _duration(path, raw["lifetime"], "auth.oidc.lifetime", MAX_SPAN) if raw.get("lifetime") else 3600.0
    return OidcSpec(issuer=raw["issuer"], email=raw["email"], audience=raw.get("audience"), lifetime=lifetime)


def _hmac_spec(path: Path, name: str, raw: Mapping[str, Any]) -> HmacSpec:
    """One declarative HMAC scheme, its templates checked: every field is one the signer knows how to fill."""
    where = f"{path}: auth.hmac.{name}"
    content = raw.get("content", "{body}")
    for field_name in _FIELD.findall(content):
        if field_name not in _CONTENT_FIELDS and not (field_name.startswith("header:") and len(field_name) > 7):
            known = "{body}, {params}, {timestamp}, {id}, {url}, {method}, {header:NAME}"
            raise SchemaLoadError(f"{where}.content: unknown field {{{field_name}}} (known: {known}).")
    if ("{body}" in content) == ("{params}" in content):
        raise SchemaLoadError(
            f"{where}.content: the signed content must include {{body}} (the raw bytes) or {{params}} "
            "(a form's sorted parameters), one of them."
        )
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
    if str(raw.get("secret_prefix", "")).startswith("-"):
        raise SchemaLoadError(f"{where}.secret_prefix: must not start with '-' (secrets are option values).")
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
        also=tuple(_companion(where, raw, item) for item in raw.get("also", ())),
        either=bool(raw.get("either", False)),
    )


def _companion(where: str, parent: Mapping[str, Any], raw: Mapping[str, Any]) -> HmacSpec:
    """One more signature of the parent's content with its secret, in its own header (no separator, no timestamp)."""
    stamp = parent.get("timestamp", {})
    if parent.get("separator") is not None or (
        "{timestamp}" in parent.get("content", "{body}") and "header" not in stamp
    ):
        raise SchemaLoadError(
            f"{where}.also: only for a scheme with one signature per header and any timestamp in its own header."
        )
    return HmacSpec(
        header=raw["header"],
        algorithm=raw.get("algorithm", "sha256"),
        encoding=raw.get("encoding", "hex"),
        format=raw.get("prefix", "") + "{signature}",
        content=parent.get("content", "{body}"),
        secret=parent.get("secret", "raw"),
        secret_prefix=parent.get("secret_prefix", ""),
        timestamp_format=stamp.get("format", "unix"),
    )


def _check_profile(raw: Any, profile_path: Path) -> None:
    errors = sorted(_meta_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise SchemaLoadError(f"{profile_path}: invalid profile at {where}: {first.message}")


def _load_provider(folder: Path, overrides: Mapping[str, Any], *, validate: bool = True) -> Provider:
    """One provider folder; ``validate=False`` trusts its schemas (the shipped catalog, checked by the test suite)."""
    profile_path = folder / "profile.json"
    raw = _read_json(profile_path)
    if overrides:
        raw = deep_merge(raw, overrides)
    if validate or overrides:
        _check_profile(raw, profile_path)
    if raw["id"] != folder.name:
        raise SchemaLoadError(f"{profile_path}: id {raw['id']!r} does not match its folder name {folder.name!r}.")

    timeout = _duration(profile_path, raw["timeout"], "timeout", MAX_TIMEOUT)
    if isinstance(raw.get("retry"), Mapping):
        _check_retry(profile_path, raw["retry"])

    def read_docs() -> list[tuple[Path, Any, str]]:
        docs = []
        for path in sorted(folder.rglob("*.schema.json")):
            _inside(folder, str(path.relative_to(folder)), "schema", profile_path)
            doc = _read_json(path)
            if validate:
                from jsonschema import SchemaError

                try:
                    _check_against_metaschema(json.dumps(doc, sort_keys=True))
                except SchemaError as exc:
                    raise SchemaLoadError(f"{path}: not a valid JSON Schema: {exc.message}") from None
                except RecursionError:
                    raise SchemaLoadError(f"{path}: nested too deeply to check.") from None
            if isinstance(doc, dict) and not doc.get("$id"):
                doc["$id"] = path.resolve().as_uri()  # relative $refs resolve from the file, for every reader alike
            uri = (doc.get("$id") if isinstance(doc, dict) else None) or path.resolve().as_uri()
            docs.append((path, doc, uri))
        return docs

    # A user's folder (or an overridden profile) is read and checked now; the shipped one is checked by
    # tests/test_catalog_data.py, so its files are read on first use (`providers` and `--help` never read a schema).
    eager = validate or bool(overrides)
    docs = read_docs() if eager else []

    def make_registry() -> Registry:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        return Registry().with_resources(
            (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
            for _, doc, uri in (docs if eager else read_docs())
        )

    registry = make_registry() if eager else None
    if validate and registry is not None:  # references, sizes and patterns
        for path, doc, uri in docs:
            _check_schema_doc(path, doc, uri, registry)
    load_registry = make_registry if registry is None else _constant(registry)

    events: dict[str, EventType] = {}
    for name, entry in raw["events"].items():
        schema_path = _inside(folder, entry["schema"], "schema", profile_path) if eager else folder / entry["schema"]
        sample_paths = tuple(_inside(folder, s, "sample", profile_path) for s in entry["samples"]) if eager else None
        load = _event_loader(folder, schema_path, sample_paths or entry["samples"], profile_path)
        if registry is not None:
            schema, _ = load()
            if not _finite(schema, registry.resolver(base_uri=str(schema.get("$id", "")))):
                raise SchemaLoadError(
                    f"{schema_path}: no finite value fits this schema: a required field or item refers back to itself."
                )
        events[name] = EventType(
            name=name,
            schema_path=schema_path,
            load=load,
            role=entry.get("role", "event"),
            headers=entry.get("headers", {}),
            description=entry.get("description", ""),
        )

    body = raw["body"]
    batch = body.get("batch", {})
    auth = raw["auth"]
    oauth = auth.get("oauth", {})
    handshake = _handshake_spec(profile_path, raw.get("handshake"), events)
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
            format=_body_format(profile_path, body),
            batch_max_events=batch.get("max_events"),
            batch_max_bytes=batch.get("max_bytes"),
            flush_interval=(
                _duration(profile_path, batch["flush_interval"], "body.batch.flush_interval", MAX_SPAN)
                if "flush_interval" in batch
                else None
            ),
        ),
        event_type=_location(raw["event_type"]),
        events=events,
        headers=raw["headers"],
        idempotency_key=_location(raw["idempotency_key"]),
        auth=AuthSpec(
            schemes=tuple(auth["schemes"]),
            tolerance=(
                _duration(profile_path, auth["tolerance"], "auth.tolerance", MAX_SPAN)
                if auth.get("tolerance")
                else None
            ),
            oauth_credentials_in=oauth.get("credentials_in", "basic"),
            oauth_scope=oauth.get("scope"),
            static_header=auth.get("static", {}).get("header", "Authorization"),
            hmac={name: _hmac_spec(profile_path, name, spec) for name, spec in auth.get("hmac", {}).items()},
            certificate=_certificate(profile_path, auth.get("certificate")),
            oidc=_oidc_spec(profile_path, auth["oidc"]) if auth.get("oidc") else None,
        ),
        timeout=timeout,
        retry=_retry(raw["retry"], profile_path),
        handshake=handshake,
        reply_schema=_read_json(_inside(folder, reply["schema"], "reply schema", profile_path)) if reply else None,
        assumptions=raw["assumptions"],
        encodings={name: dict(spec) for name, spec in raw.get("encodings", {}).items()},
        pass_through=tuple(dict(item) for item in raw.get("pass_through", ())),
        root=folder,
        load_registry=load_registry,
        raw=raw,
        lifecycles={
            name: Lifecycle.parse(name, entry, events, str(profile_path))
            for name, entry in raw.get("lifecycles", {}).items()
        },
    )


def _event_loader(
    folder: Path, schema_path: Path, samples: Sequence[Path | str], profile_path: Path
) -> Callable[[], tuple[dict[str, Any], tuple[Any, ...]]]:
    """Reads one event type's schema and samples when first asked, once."""

    @lru_cache(maxsize=1)
    def load() -> tuple[dict[str, Any], tuple[Any, ...]]:
        path = _inside(folder, str(schema_path.relative_to(folder)), "schema", profile_path)
        schema = _read_json(path)
        if isinstance(schema, dict) and not schema.get("$id"):
            schema["$id"] = path.resolve().as_uri()
        found = tuple(
            _read_json(s if isinstance(s, Path) else _inside(folder, s, "sample", profile_path)) for s in samples
        )
        return schema, found

    return load


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
        builtin = root == roots[0]
        if not builtin and not folders:
            raise SchemaLoadError(f"{root}: no provider folders (a folder with a profile.json) found.")
        for folder in folders:
            # The shipped catalog is validated by the test suite (tests/test_catalog_data.py), not on every start.
            providers[folder.name] = _load_provider(folder, overrides.get(folder.name, {}), validate=not builtin)
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
