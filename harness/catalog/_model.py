"""Parsed provider profiles."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from harness.catalog._lifecycle import Lifecycle
from harness.catalog._patterns import safe_validator
from harness.core.durations import parse_duration
from harness.core.pointers import resolve_pointer
from harness.errors import UsageError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = [
    "AuthSpec",
    "BodySpec",
    "CertificateSpec",
    "Catalog",
    "EventType",
    "OidcSpec",
    "HandshakeSpec",
    "HmacSpec",
    "Lifecycle",
    "Location",
    "Provider",
    "RetrySpec",
    "decode_form",
    "encode_form",
]

_SEPARATORS = {"compact": (",", ":"), "default": (", ", ": ")}
_ON_EXHAUSTED = ("drop", "disable-endpoint")
_RETRY_KEYS = frozenset(
    {"retry_on", "max_attempts", "window", "backoff", "retry_headers", "honours", "resign_each_attempt", "on_exhausted"}
)


# A line holding an empty object or array, with its indentation and optional key and comma. Strings cannot span
# lines in JSON, so a string ending in "{}" never matches (it ends with a quote).
_EMPTY_CONTAINER = re.compile(r'^( *)((?:"(?:[^"\\]|\\.)*": )?)(\{\}|\[\])(,?)$', re.MULTILINE)


def _ruby_empty(match: re.Match[str]) -> str:
    """Ruby's pretty_generate as Stripe sends it: ``{`` newline ``}`` and ``[`` blank line ``]``, closing indented."""
    indent, key, empty, comma = match.groups()
    inner = "\n" if empty == "{}" else "\n\n"
    return f"{indent}{key}{empty[0]}{inner}{indent}{empty[1]}{comma}"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives in a delivery: a body JSON Pointer or a header name."""

    where: str
    pointer: str = ""
    name: str = ""
    per_event: bool = False
    action: str = ""  # a body pointer whose value qualifies a header-named event: ``pull_request`` + ``opened``

    def describe(self) -> str:
        """Human form, e.g. ``header X-GitHub-Delivery`` or ``body /sg_event_id (each event)``."""
        if self.where == "header":
            return f"header {self.name}" + (f" + body {self.action}" if self.action else "")
        return f"body {self.pointer}" + (" (each event)" if self.per_event else "")


@dataclass(frozen=True, slots=True)
class BodySpec:
    """How a delivery body is shaped and serialised."""

    shape: str
    max_bytes: int
    separators: tuple[str, str] = (",", ":")
    sort_keys: bool = False
    suffix: str = ""
    layout: str = "flat"  # flat | ruby-pretty
    form_field: str | None = None  # set: the JSON travels form-encoded as this field (GitHub's payload=<json>)
    format: str = "json"  # json | form (the event's fields as flat form parameters: Twilio)
    batch_max_events: int | None = None
    batch_max_bytes: int | None = None
    flush_interval: float | None = None


@dataclass(frozen=True, slots=True)
class HmacSpec:
    """A declarative HMAC scheme: what is signed, with which key, and how the signature travels."""

    header: str
    algorithm: str = "sha256"
    encoding: str = "hex"
    format: str = "{signature}"
    separator: str | None = None
    content: str = "{body}"
    secret: str = "raw"
    secret_prefix: str = ""
    timestamp_header: str | None = None
    timestamp_format: str = "unix"
    reject_future: bool = True
    id_header: str | None = None
    also: tuple[HmacSpec, ...] = ()  # more signatures of the same content with the same secret (GitHub's SHA-1)
    either: bool = False  # the header and the ``also`` headers are alternatives: any one matching will do (Box)

    @property
    def timestamped(self) -> bool:
        """The signature covers a timestamp."""
        return "{timestamp}" in self.content


@dataclass(frozen=True, slots=True)
class CertificateSpec:
    """Where a certificate-signed message's signing certificate may come from (AWS SNS's ``SigningCertURL``).

    ``host_pattern`` matches the provider's hosts (https only); ``test_hosts`` are the hosts the harness serves its own
    certificates from, which a receiver under test trusts as well (http or https).
    """

    host_pattern: str
    test_hosts: tuple[str, ...] = ("127.0.0.1",)
    signature_version: str = "1"  # what the harness signs with: 1 (SHA1withRSA) or 2 (SHA256withRSA)

    def trusted(self, url: str) -> bool:
        """The URL is on one of the provider's hosts (https), or on a test host."""
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 -- a malformed port raises here
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None or parts.fragment:
            return False
        if host in self.test_hosts:
            return parts.scheme in ("http", "https")
        return parts.scheme == "https" and re.fullmatch(self.host_pattern, host) is not None


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """The provider's signing schemes and their documented parameters."""

    schemes: tuple[str, ...]
    tolerance: float | None = None
    oauth_credentials_in: str = "basic"
    oauth_scope: str | None = None
    static_header: str = "Authorization"  # the static-authorization scheme's header (Okta's is configurable)
    hmac: Mapping[str, HmacSpec] = field(default_factory=dict)
    certificate: CertificateSpec | None = None  # certificate-signed messages: where the certificate may come from
    oidc: OidcSpec | None = None


@dataclass(frozen=True, slots=True)
class OidcSpec:
    """An OIDC token's documented claims (Pub/Sub push): who issues it, for whom, and how long it lives."""

    issuer: str
    email: str
    audience: str | None = None  # None: the URL the delivery is posted to (the push endpoint)
    lifetime: float = 3600.0


@dataclass(frozen=True, slots=True)
class HandshakeSpec:
    """A handshake the receiver must honour, as data (docs/catalog-format.md, "Handshakes").

    ``kind`` is one of ``challenge-body`` (a value in the body echoed: Slack, Twitch), ``query-echo`` (a query
    parameter echoed: Microsoft Graph, Dropbox), ``header-echo`` (a request header echoed in a response header:
    Asana), ``json-verification`` (a value echoed inside a JSON object: Okta) and ``confirm-url`` (a URL in the
    message the receiver must GET: OCI). The rest says where the challenge travels, how the request is recognised
    and what a correct answer is.
    """

    kind: str
    event: str | None = None  # the event type whose body is the handshake message (body-carrying kinds)
    method: str = ""  # the handshake request's method ("": the provider's)
    challenge_in: str = "body"  # body | query | header
    challenge_name: str = "/challenge"  # a body JSON Pointer, a query parameter or a header name
    challenge_secret: bool = False  # the challenge is the signing secret itself, handed over (Asana's X-Hook-Secret)
    match_in: str = ""  # how the request is recognised: body | query | header ("": the challenge's presence)
    match_name: str = ""
    match_value: str | None = None  # the value it must have (None: present)
    reply_status: tuple[int, ...] = ()  # the statuses accepted (empty: any 2xx)
    reply_body: tuple[str, ...] = ()  # raw | json: the body forms accepted, the first one preferred
    reply_key: str = "challenge"  # the JSON form's key
    reply_echo_header: str | None = None  # a response header that must carry the challenge (Asana)
    reply_content_type: str | None = None  # the media type the answer must have
    reply_headers: tuple[tuple[str, str], ...] = ()  # response headers it must carry, exactly
    timeout: float | None = None  # seconds within which the answer must come
    signed: bool = True  # the handshake request carries the provider's auth
    url_pointer: str = ""  # confirm-url: where the URL is in the body
    url_header: str = ""  # confirm-url: the header that also carries it

    @property
    def echoes(self) -> bool:
        """The receiver answers with the challenge (not confirm-url, Discord's PING nor SNS's confirmation)."""
        return self.kind not in ("confirm-url", "discord-ping", "sns-subscription-confirmation")

    @property
    def single_form(self) -> bool:
        """The answer's body must be in exactly one form (raw text or a JSON object)."""
        return len(self.reply_body) == 1


@dataclass(frozen=True)
class RetrySpec:
    """A provider's documented retry behaviour, as its profile's ``retry`` block states it (durations in seconds)."""

    statuses: frozenset[int | str] = frozenset({"non-2xx"})
    connection_errors: bool = True
    timeouts: bool = True
    max_attempts: int | None = None
    window: float | None = None
    delays: tuple[float, ...] = ()
    factor: float | None = None
    max_delay: float | None = None
    jitter: float = 0.0
    retry_headers: Mapping[str, str] = field(default_factory=dict)
    honours: frozenset[str] = frozenset()
    resign_each_attempt: bool = True
    on_exhausted: str = "drop"

    def resend_headers(self, retry: int, reason: str = "http_error") -> dict[str, str]:
        """The headers the provider adds to its ``retry``-th resend (1 for the first): the number, or the reason."""
        return {name: str(retry) if kind == "retry_number" else reason for name, kind in self.retry_headers.items()}

    @classmethod
    def parse(cls, block: Mapping[str, Any], base: RetrySpec | None = None) -> RetrySpec:
        """A ``retry`` block over ``base`` (defaults when None), ``backoff`` and ``retry_on`` key by key."""
        start = base if base is not None else RetrySpec()
        unknown = sorted(set(block) - _RETRY_KEYS)
        if unknown:
            raise UsageError(f"Unknown retry key {unknown[0]!r}. Known: {', '.join(sorted(_RETRY_KEYS))}.")
        changes: dict[str, Any] = {}  # only the keys present replace ``start``'s; a bad value is a usage error
        on = _block(block, "retry_on")
        if "statuses" in on:
            changes["statuses"] = _statuses(on["statuses"])
        for key in ("connection_errors", "timeouts"):
            if key in on:
                changes[key] = _flag(on[key], f"retry.retry_on.{key}")
        if "max_attempts" in block:
            attempts = block["max_attempts"]
            if attempts is not None and (type(attempts) is not int or attempts < 1):
                raise UsageError(f"Invalid retry.max_attempts {attempts!r}: an integer >= 1, or null.")
            changes["max_attempts"] = attempts
        if "window" in block:
            changes["window"] = _duration(block["window"], "retry window")
        backoff = _block(block, "backoff")
        if "delays" in backoff:
            delays = backoff["delays"]
            if not isinstance(delays, list | tuple):
                raise UsageError(f"Invalid retry.backoff.delays {delays!r}: a list of durations.")
            changes["delays"] = tuple(parse_duration(d, what="retry delay") for d in delays)
        if "factor" in backoff:
            factor = backoff["factor"]
            if factor is not None and (isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 1):
                raise UsageError(f"Invalid retry.backoff.factor {factor!r}: a number >= 1.")
            changes["factor"] = float(factor) if factor else None
        if "max_delay" in backoff:
            changes["max_delay"] = _duration(backoff["max_delay"], "retry max_delay")
        if "jitter" in backoff:
            jitter = backoff["jitter"] or 0.0
            if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0.0 <= jitter < 1.0:
                raise UsageError(f"Invalid retry.backoff.jitter {jitter!r}: a fraction in [0, 1).")
            changes["jitter"] = float(jitter)
        if "retry_headers" in block:
            changes["retry_headers"] = dict(_block(block, "retry_headers"))
        if "honours" in block:
            changes["honours"] = frozenset(block["honours"] or ())
        if "resign_each_attempt" in block:
            changes["resign_each_attempt"] = _flag(block["resign_each_attempt"], "retry.resign_each_attempt")
        if "on_exhausted" in block:
            on_exhausted = str(block["on_exhausted"] or "drop")
            if on_exhausted not in _ON_EXHAUSTED:
                raise UsageError(f"Invalid retry.on_exhausted {on_exhausted!r}: one of {', '.join(_ON_EXHAUSTED)}.")
            changes["on_exhausted"] = on_exhausted
        return dataclasses.replace(start, **changes) if changes else start


def _block(block: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = block.get(key) or {}
    if not isinstance(value, Mapping):
        raise UsageError(f"Invalid retry.{key} {value!r}: a table of keys.")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"Invalid {key} {value!r}: true or false.")
    return value


def _duration(value: Any, what: str) -> float | None:
    return parse_duration(value, what=what) if value else None


def _statuses(value: Any) -> frozenset[int | str]:
    if not isinstance(value, list | tuple | frozenset | set):
        raise UsageError(f"Invalid retry.retry_on.statuses {value!r}: a list of status codes or classes.")
    for rule in value:
        is_code = type(rule) is int and 100 <= rule <= 599
        if not is_code and rule not in ("non-2xx", "3xx", "4xx", "5xx"):
            raise UsageError(f"Invalid retry status {rule!r}: a code 100..599, or non-2xx, 3xx, 4xx or 5xx.")
    return frozenset(value)


@dataclass(frozen=True)
class EventType:
    """One event type: its schema, documented samples and per-type headers.

    The schema and samples are read on first use (``load``): a catalog of hundreds of types starts as fast as a small
    one, and a command that never draws a type never reads its files.
    """

    name: str
    schema_path: Path
    load: Callable[[], tuple[dict[str, Any], tuple[Any, ...]]] = field(repr=False, compare=False)
    role: str = "event"
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""

    @cached_property
    def _content(self) -> tuple[dict[str, Any], tuple[Any, ...]]:
        return self.load()

    @property
    def schema(self) -> dict[str, Any]:
        """The event's JSON Schema (read on first use)."""
        return self._content[0]

    @property
    def samples(self) -> tuple[Any, ...]:
        """The documented samples (read on first use)."""
        return self._content[1]


@dataclass(frozen=True)
class Provider:
    """A provider's delivery facts plus its event catalog."""

    id: str
    title: str
    sources: tuple[str, ...]
    method: str
    content_type: str
    body: BodySpec
    event_type: Location
    events: Mapping[str, EventType]
    headers: Mapping[str, Mapping[str, Any]]
    idempotency_key: Location
    auth: AuthSpec
    timeout: float
    retry: RetrySpec
    handshake: HandshakeSpec | None
    reply_schema: dict[str, Any] | None
    assumptions: Mapping[str, str]
    root: Path
    load_registry: Callable[[], Registry] = field(repr=False, compare=False)
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    subscription: tuple[str, ...] = ()  # the event types the endpoint subscribes to (--event); () for all
    encodings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # name -> content_type, form_field
    pass_through: tuple[Mapping[str, Any], ...] = ()  # free-text fields copied from end users (pointer, add, numbers)
    lifecycles: Mapping[str, Lifecycle] = field(default_factory=dict)
    sample: tuple[str, ...] = ()  # a large catalog's default run: the types drawn (``sampled``); () for all

    @cached_property
    def registry(self) -> Registry:
        """Every schema of the folder, to resolve ``$ref``s (built on first use: `providers` needs none)."""
        return self.load_registry()

    def lifecycle(self, name: str) -> Lifecycle:
        """Return a lifecycle, or a usage error listing the known ones."""
        try:
            return self.lifecycles[name]
        except KeyError:
            known = ", ".join(self.lifecycles) or "none"
            raise UsageError(f"Unknown lifecycle {name!r} for provider {self.id!r}. Known: {known}.") from None

    @cached_property
    def numeric_event_types(self) -> bool:
        """The body's event type is an integer (Discord's interaction type): the catalog names types by digits."""
        return self.event_type.where == "body" and all(name.isdigit() for name in self.events)

    def event_type_name(self, raw: Any) -> str | None:
        """The catalog name of an event type value read from a body: a string, or digits where types are integers."""
        if self.numeric_event_types:
            return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
        return raw if isinstance(raw, str) else None

    def event_type_value(self, name: str) -> Any:
        """An event type name as the body carries it; an unknown name, where types are integers, a new integer."""
        if not self.numeric_event_types:
            return name
        return int(name) if name.isdigit() else max(int(n) for n in self.events) + 100

    @property
    def ordinary_events(self) -> list[str]:
        """Event types that are not handshakes (of a sampled provider, its sample: see ``sampled``)."""
        if self.sample:
            return list(self.sample)
        return [name for name, ev in self.events.items() if ev.role == "event"]

    @property
    def handshake_event(self) -> EventType | None:
        """The handshake message's event type, if the provider has one."""
        return self.events[self.handshake.event] if self.handshake and self.handshake.event else None

    def subscribed(self, names: Sequence[str]) -> tuple[Provider, list[str]]:
        """The provider as an endpoint subscribed to ``names`` (or globs) sees it, and the names it does not know.

        Providers deliver only the event types an endpoint subscribes to, so every check draws from those. Unknown
        names are returned for a warning; when none is known the profile is returned as it is.
        """
        known = self.events_matching(names)  # exact names and globs (``pull_request.*``)
        unknown = [
            name for name in dict.fromkeys(names) if name not in self.events and not self.events_matching([name])
        ]
        if not known:
            return self, unknown
        kept = {name: ev for name, ev in self.events.items() if ev.role != "event" or name in known}
        return dataclasses.replace(self, events=kept, subscription=tuple(known)), unknown

    @property
    def sample_names(self) -> list[str] | None:
        """The ordinary types a default run draws from, or None when it draws from all (see ``sampled``)."""
        spec = self.raw.get("sampling")
        names = [name for name, ev in self.events.items() if ev.role == "event"]
        if not isinstance(spec, Mapping) or len(names) <= spec["size"] or self.subscription or self.sample:
            return None
        keep = dict.fromkeys(name for name in spec["common"] if name in self.events)
        rest = sorted(name for name in names if name not in keep)
        room = min(max(0, spec["size"] - len(keep)), len(rest))
        keep.update(dict.fromkeys(random.Random(spec["seed"]).sample(rest, room)))
        return [name for name in names if name in keep]

    def sampled(self) -> Provider:
        """The provider as a default run (no ``--event``) sees it: every type of a small catalog; of a large one, the
        profile's ``sampling``: its common types and a fixed seeded sample of the others, ``size`` types in all.

        Only what a run draws is narrowed (``ordinary_events``): every type stays known, so lifecycles, replays and
        validation still find theirs, and the endpoint still subscribes to all (``subscription`` stays empty). A
        catalog of hundreds of types then checks as fast as a small one, and every run draws the same types.
        """
        return self._sampled

    @cached_property
    def _sampled(self) -> Provider:
        """The sampled provider, built once per profile: every run of it shares one (immutable) object, so what is
        compiled from its schemas (strategies, validators, generators) is reused instead of rebuilt per session."""
        names = self.sample_names
        return self if names is None else dataclasses.replace(self, sample=tuple(names))

    def encoded_as(self, name: str) -> Provider:
        """The provider sending in one of the delivery encodings its profile declares (``json`` is the default)."""
        if name == "json" and "json" not in self.encodings:
            return self
        spec = self.encodings.get(name)
        if spec is None:
            known = ", ".join(["json", *self.encodings])
            raise UsageError(f"{self.id} has no delivery encoding {name!r} (--content-type). Known: {known}.")
        body = dataclasses.replace(self.body, form_field=spec.get("form_field"))
        return dataclasses.replace(self, content_type=spec["content_type"], body=body)

    def events_matching(self, patterns: Sequence[str]) -> list[str]:
        """The ordinary event types any of ``patterns`` names: an exact name or a glob (``pull_request.*``).

        Where the event header names a family told apart by the body's action (GitHub), the family's name selects
        every action of it, as subscribing to ``pull_request`` does: ``pull_request`` matches ``pull_request.opened``.
        """
        family = bool(self.event_type.action)
        return [
            name
            for name in self.ordinary_events
            if any(fnmatchcase(name, p) or (family and name.startswith(f"{p}.")) for p in patterns)
        ]

    @cached_property
    def _families(self) -> frozenset[str]:
        """Every ``base`` some event type names as ``base.rest`` (each prefix before a dot)."""
        return frozenset(name[:i] for name in self.events for i, c in enumerate(name) if c == ".")

    def qualified_event_type(self, base: str | None, item: Any) -> str | None:
        """The event type a header names, qualified by the body's action (``pull_request`` + ``opened``) when known.

        ``None`` when the header names a family of action-qualified types and the body has no action string.
        """
        pointer = self.event_type.action
        if base is None or not pointer:
            return base
        action = resolve_pointer(item, pointer)
        if not isinstance(action, str):  # a family that is told apart by its action, sent without one: untyped
            return None if base in self._families else base
        qualified = f"{base}.{action}"
        return qualified if qualified in self.events else base

    def event(self, name: str) -> EventType:
        """Return an event type, or a usage error listing the known ones."""
        try:
            return self.events[name]
        except KeyError:
            family = [n for n in self.events if n.startswith(f"{name}.")]
            if family:
                shown = ", ".join(family[:8]) + (f" and {len(family) - 8} more" if len(family) > 8 else "")
                raise UsageError(f"{name!r} is a family of {self.id} event types; name one: {shown}.") from None
            known = ", ".join(list(self.events)[:20]) + (
                f" ... ({len(self.events)} in all; `webhook-harness providers {self.id}` lists them)"
                if len(self.events) > 20
                else ""
            )
            raise UsageError(f"Unknown event type {name!r} for provider {self.id!r}. Known: {known}.") from None

    @cached_property
    def _validators(self) -> dict[str, Draft202012Validator]:
        return {}  # filled per event type on first use: a large catalog compiles only what a run validates

    def validator(self, event: str) -> Draft202012Validator:
        """A compiled validator for one event type's schema."""
        found = self._validators.get(event)
        if found is None:
            from jsonschema import Draft202012Validator

            schema = self.event(event).schema
            checker = Draft202012Validator.FORMAT_CHECKER
            found = self._validators[event] = safe_validator()(schema, registry=self.registry, format_checker=checker)
        return found

    @cached_property
    def reply_validator(self) -> Draft202012Validator | None:
        """A compiled validator for the receiver's reply, where the provider defines one."""
        if self.reply_schema is None:
            return None
        validator: Draft202012Validator = safe_validator()(self.reply_schema, registry=self.registry)
        return validator

    def is_valid(self, event: str, payload: Any) -> bool:
        """The payload fits its event schema (``not schema_errors(...)``, stopping at the first error)."""
        return bool(self.validator(event).is_valid(payload))

    def schema_errors(self, event: str, payload: Any) -> list[str]:
        """Validation errors of one event payload, each as ``/path: message``."""
        errors = sorted(self.validator(event).iter_errors(payload), key=lambda e: list(e.absolute_path))
        return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]

    def encode(self, value: Any, *, ascii_only: bool = False) -> bytes:
        """Serialise a body value exactly as the provider does (raw UTF-8 unless ``ascii_only``)."""
        spec = self.body
        if spec.format == "form":
            return encode_form(value)
        if spec.layout == "ruby-pretty":
            text = _EMPTY_CONTAINER.sub(
                _ruby_empty, json.dumps(value, indent=2, sort_keys=spec.sort_keys, ensure_ascii=ascii_only)
            )
        else:
            text = json.dumps(value, separators=spec.separators, sort_keys=spec.sort_keys, ensure_ascii=ascii_only)
        if spec.form_field is not None:
            return urlencode({spec.form_field: text + spec.suffix}).encode("ascii")
        return (text + spec.suffix).encode("utf-8")

    def decode(self, body: bytes) -> Any:
        """The body value a delivery carries, read strictly as the provider encodes it; ``ValueError`` otherwise.

        JSON, a form's parameters (a dict of text), or the JSON inside a form field (GitHub's ``payload=``).
        """
        if self.body.format == "form":
            return decode_form(body)
        if self.body.form_field is not None:
            fields = decode_form(body)
            if self.body.form_field not in fields:
                raise ValueError(f"no {self.body.form_field} form field")
            return json.loads(fields[self.body.form_field])
        return json.loads(body.decode("utf-8"))


def _form_text(value: Any) -> str:
    """A field's value as form text: strings as they are, true/false, numbers, JSON for anything nested."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_form(value: Any) -> bytes:
    """An object's fields as ``application/x-www-form-urlencoded`` (UTF-8, ``+`` for spaces), in their order."""
    if not isinstance(value, Mapping):
        value = {"value": value}  # a form carries named fields: anything else travels as one
    return urlencode([(str(k), _form_text(v)) for k, v in value.items()]).encode("ascii")


def decode_form(body: bytes) -> dict[str, str]:
    """Form parameters, strictly (ASCII, every pair with '=', valid UTF-8 escapes); a repeated name keeps its last."""
    text = body.decode("ascii")
    if not text.strip():
        raise ValueError("empty form")
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")
    return dict(pairs)


@dataclass(frozen=True)
class Catalog:
    """All loaded providers, by id."""

    providers: Mapping[str, Provider]
    sources: tuple[Path, ...] = ()

    def get(self, provider_id: str) -> Provider:
        """Return a provider, or a usage error listing the known ids."""
        try:
            return self.providers[provider_id]
        except KeyError:
            known = ", ".join(self.providers)
            raise UsageError(f"Unknown provider {provider_id!r}. Known: {known}.") from None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers.values())

    def __len__(self) -> int:
        return len(self.providers)
