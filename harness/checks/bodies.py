"""Body checks: every event type accepted, malformed bodies refused, fuzzing never crashes, novelties tolerated."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from harness.catalog import Provider
from harness.checks._classes import ANYONE, PROVIDER_SENDS, SECRET_HOLDER
from harness.checks._context import CheckContext, blocked_cause, is_4xx
from harness.checks._registry import check
from harness.checks.auth import CRASH_HINT
from harness.checks.encoding import non_ascii_delivery
from harness.core.models import Delivery, Reply
from harness.core.pointers import parse_pointer, resolve_pointer, set_pointer
from harness.deliveries import build_delivery
from harness.errors import HarnessError
from harness.strategies import NOVEL_EVENT, deliveries, invalid_payloads, malformed_bodies, novel_deliveries
from harness.strategies import replace_member as _set
from harness.strategies import required_paths as _required_paths
from harness.strategies import wrong_type_value as _wrong_type
from harness.violations import ContractViolation

_SHRINK_BUDGET = 60  # attempts (draws, each sending at most one request) spent minimising a failure
_FUZZ_SECONDS = 60.0


@check(
    "accepts-valid",
    "Every event type, correctly authenticated, gets a 2xx",
    10,
    category="acceptance",
    bugs=("rejects-some-event", "reserialised-signature"),
    sends=PROVIDER_SENDS,
)
def accepts_valid(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """One realistic delivery per event type, and one whose bytes do not survive a JSON round trip."""
    out = []
    cases = [(ctx.signed(event), event) for event in ctx.provider.ordinary_events]
    pair = non_ascii_delivery(ctx)
    if pair is not None:
        cases.append((ctx.sign(pair[1]), f"{(pair[1].event_types or (ctx.baseline_event,))[0]} (non-ASCII text)"))
    replies = [(delivery, event, ctx.send(delivery, f"valid {event}")) for delivery, event in cases]
    refused_all = all(not reply.ok for _, _, reply in replies)
    unsubscribed = {} if refused_all else _unsubscribed(ctx, replies)
    if unsubscribed:
        out.append(_unsubscribed_finding(ctx, unsubscribed, replies))
    for delivery, event, reply in replies:
        if event.split(" ")[0] in unsubscribed:
            continue
        if not reply.ok:
            if refused_all:
                hint = f"every valid delivery was refused; {blocked_cause(reply)}"
            elif "non-ASCII" in event:
                hint = "verify the signature over the raw request bytes and accept UTF-8 text (see verifies-raw-body)"
            else:
                hint = "accept every documented event type (ignore the ones you don't need, but answer 2xx)"
            out.append(
                ctx.violation(
                    "accepts-valid",
                    f"A valid {event!r} delivery was not acknowledged",
                    "a 2xx: the provider retries or gives up on anything else",
                    delivery,
                    reply,
                    hint,
                )
            )
    return out, []


def _unsubscribed(ctx: CheckContext, replies: list[tuple[Delivery, str, Reply]]) -> dict[str, int]:
    """Event types refused with the same 4xx twice while others got a 2xx: an endpoint that subscribes to fewer types.

    Only without ``--event``: once the subscription is given, every refused type is a failure.
    """
    if ctx.provider.subscription:
        return {}
    accepted = {event.split(" ")[0] for _, event, reply in replies if reply.ok}
    refused = {
        event: reply.status
        for _, event, reply in replies
        if " " not in event and 400 <= reply.status < 500 and event not in accepted
    }
    if not accepted or not refused:
        return {}
    out = {}
    for event, status in refused.items():
        again = ctx.send(ctx.signed(event), f"valid {event} (again)")
        if again.status == status:
            out[event] = status
    return out


def _unsubscribed_finding(
    ctx: CheckContext, refused: dict[str, int], replies: list[tuple[Delivery, str, Reply]]
) -> ContractViolation:
    """One warning naming the refused types and the option that says which types the endpoint subscribes to."""
    names = ", ".join(f"{event} (HTTP {status})" for event, status in sorted(refused.items()))
    accepted = sorted({event.split(" ")[0] for _, event, reply in replies if reply.ok})
    delivery, _, reply = next(r for r in replies if r[1] in refused)
    events = " ".join(f"--event {e}" for e in accepted)
    finding = ctx.violation(
        "accepts-valid",
        f"Event types refused every time while others were accepted: {names}; is the endpoint subscribed to them?",
        "a 2xx for every event type the endpoint subscribes to",
        delivery,
        reply,
        f"if the endpoint subscribes only to some event types, say which ({events}, or events = [...] in the "
        "config, or --webhook-event): every check then draws from them; otherwise acknowledge these types too",
    )
    finding.advisory = True
    return finding


def _off_type_path(ctx: CheckContext, path: Sequence[str]) -> bool:
    """Changing this path leaves the body's event type readable (it is not on the way to it)."""
    loc = ctx.provider.event_type
    typing = tuple(parse_pointer(loc.pointer)) if loc.where == "body" else ()
    return tuple(path) != typing[: len(path)]


def _element_paths(ctx: CheckContext, schema: Any, resolver: Any) -> list[tuple[Any, Any, Any]]:
    """Required fields of the array element that holds the event type, as paths through the array (``events/0/x``)."""
    loc = ctx.provider.event_type
    if loc.where != "body":
        return []
    parts = list(parse_pointer(loc.pointer))
    node: Any = schema
    prefix: list[str] = []
    for part in parts[:-1]:
        node = resolver.lookup(node["$ref"]).contents if isinstance(node, dict) and "$ref" in node else node
        if not isinstance(node, dict):
            return []
        node = node.get("items") if part.isdigit() else node.get("properties", {}).get(part)
        prefix.append(part)
    if not any(p.isdigit() for p in prefix):
        return []
    return [
        ((*prefix, *p), s, r)
        for p, s, r in _required_paths(node, resolver)
        if len(p) == 1 and _off_type_path(ctx, (*prefix, *p))
    ]


def _invalid_variants(ctx: CheckContext) -> list[tuple[Delivery, str]]:
    """Schema-invalid payloads (missing required field, wrong type, outside enum) for a few event types."""
    out = []
    events = ctx.provider.ordinary_events
    form = ctx.provider.body.format == "form"
    for event in [events[i] for i in sorted({0, len(events) // 2, len(events) - 1})]:
        payload = ctx.generator.payload(event)
        schema = ctx.provider.event(event).schema
        resolver = ctx.provider.registry.resolver(base_uri=schema.get("$id", ""))
        required = list(_required_paths(schema, resolver))
        paths: list[Any] = [(p, s, r) for p, s, r in required if len(p) == 1]
        if not any(_off_type_path(ctx, p) for p, _, _ in paths):  # an envelope (Mailgun's event-data): look inside
            paths = [(p, s, r) for p, s, r in required if len(p) == 2 and _off_type_path(ctx, p)]
        if not paths:  # the event is an array's element (Asana's /events/0/action): break the element's fields
            paths = _element_paths(ctx, schema, resolver)
        tried = 0
        for path, sub, sub_resolver in paths:
            if tried >= 2:
                break
            if isinstance(sub, dict) and "$ref" in sub:
                sub = sub_resolver.lookup(sub["$ref"]).contents
            for mode in ("missing", "wrong-type"):
                if mode == "wrong-type" and form and "/" + "/".join(path) == ctx.provider.event_type.pointer:
                    continue  # read back as text it names another event type: a novelty, not an invalid body
                bad = (
                    _set(payload, path, None, delete=True)
                    if mode == "missing"
                    else _set(payload, path, _wrong_type(sub))
                )
                if ctx.provider.is_valid(event, _as_sent(ctx, bad)):
                    continue  # valid, or valid again once encoded (a form carries every value as text)
                reason = f"{event}: /{'/'.join(path)} " + ("missing" if mode == "missing" else "of the wrong type")
                body = [bad] if ctx.provider.body.shape == "batch" else bad
                out.append((build_delivery(ctx.provider, body, event_types=[event], rng=ctx.rng), reason))
                tried += 1
    return out


def _as_sent(ctx: CheckContext, value: Any) -> Any:
    """The event as the receiver reads it back: a form body's values are all text."""
    if ctx.provider.body.format != "form":
        return value
    try:
        return ctx.provider.decode(ctx.provider.encode(value))
    except ValueError:
        return value


def _malformed_variants(ctx: CheckContext) -> list[tuple[Delivery, str]]:
    """Bodies no provider ever sends: not JSON, truncated, empty, another content type, over the cap, wrong shape."""
    base = ctx.unsigned()
    ct = ctx.provider.content_type
    wrong_shape = b'{"not": "an array"}' if ctx.provider.body.shape == "batch" else b'["not", "an", "object"]'
    out = [
        (base.replace(body=b"{oops, not json}", label="malformed"), "unparsable JSON"),
        (base.replace(body=base.body[: max(1, len(base.body) // 2)], label="truncated"), "truncated JSON"),
        (base.replace(body=b"", label="empty"), "an empty body"),
        (
            base.replace(body=b"payload=%7B%7D", label="wrong content type").with_headers(
                {"Content-Type": "application/x-www-form-urlencoded"}
            ),
            f"a form-encoded body instead of {ct}",
        ),
        (base.replace(body=wrong_shape, label="wrong top-level type"), "a body of the wrong top-level JSON type"),
    ]
    if ctx.provider.body.max_bytes <= 2 * 1024 * 1024:
        filler = {"padding": "x" * (ctx.provider.body.max_bytes + 1024)}
        big = ctx.provider.encode([filler] if ctx.provider.body.shape == "batch" else filler)
        out.append(
            (base.replace(body=big, label="oversized"), f"a body over the {ctx.provider.body.max_bytes}-byte cap")
        )
    return out


def _refusal_failure(reply: Reply) -> bool:
    """A 5xx, no answer, or a redirect: what a robust receiver never gives, whatever the input."""
    return reply.status >= 500 or reply.status == 0 or 300 <= reply.status < 400


@check(
    "rejects-malformed",
    "Bodies without credentials that no provider sends (not JSON, empty, wrong type or size) get a 4xx",
    60,
    category="validation",
    bugs=("parse-before-verify",),
    sends=ANYONE,
    gated=True,
)
def rejects_malformed(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Unsigned garbage: anyone can send it, so a 2xx is a forgery accepted and a 5xx a crash before authenticating."""
    out = []
    for delivery, reason in _malformed_variants(ctx):
        reply = ctx.send(delivery, f"unsigned: {reason}")
        if is_4xx(reply):
            continue
        if reply.ok:
            verdict, hint = "was accepted", "authenticate every request before accepting it, whatever its body"
        else:
            verdict = "caused a server error" if reply.status >= 500 else "was not refused with a 4xx"
            hint = CRASH_HINT
        out.append(
            ctx.violation(
                "rejects-malformed",
                f"{reason[0].upper()}{reason[1:]} without credentials {verdict}",
                "a 4xx (401, or 400/413/415): anyone can send this, so it must be refused before it is parsed",
                delivery,
                reply,
                hint,
            )
        )
    return out, []


@check(
    "handles-signed-malformed",
    "Correctly signed bodies no provider sends (not JSON, empty, wrong type or size) never cause a 5xx",
    62,
    category="robustness",
    bugs=("crashes-on-bad-json", "parse-before-verify"),
    sends=SECRET_HOLDER,
    gated=True,
)
def handles_signed_malformed(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Fixed bad bodies, then Hypothesis' malformed and schema-invalid ones, all signed; a 2xx is not a finding."""
    notes: list[str] = []
    failing: list[tuple[Delivery, Reply, str]] = []
    accepted = []
    for delivery, reason in _malformed_variants(ctx):
        signed = ctx.sign(delivery)
        reply = ctx.send(signed, f"signed: {reason}")
        if _refusal_failure(reply):
            failing.append((signed, reply, reason))
        elif reply.ok:
            accepted.append(reason)
    if accepted:
        notes.append(f"acknowledged with a 2xx (fine: the provider never sends them): {', '.join(accepted)}")
    if not failing:
        base = ctx.unsigned()
        found, sent, cut = _fuzz(ctx, _garbage_strategy(ctx, base), _garbage_examples(base), _refusal_failure)
        notes.append(f"{sent} fuzzed signed bodies{cut}, seed {ctx.seed}")
        if found is not None:
            delivery, reply = found
            if delivery.label.startswith("invalid") and not still_invalid(ctx, delivery):
                delivery = delivery.replace(label="valid after shrinking")  # never call a body invalid that is not
            failing.append((delivery, reply, f"a fuzzed body ({delivery.label})"))
    if not failing:
        return [], notes
    delivery, reply, reason = failing[0]
    kind = "a server error" if reply.status >= 500 else "no answer" if reply.status == 0 else "a redirect"
    also = f" (and {len(failing) - 1} more: {', '.join(r for _, _, r in failing[1:])})" if failing[1:] else ""
    finding = ctx.violation(
        "handles-signed-malformed",
        f"{reason[0].upper()}{reason[1:]}, correctly signed, caused {kind}{also}",
        "a 4xx (400, 413 or 415; a 2xx is fine too): only the secret holder can send it, but a crash on bad "
        "input is a crash waiting for a provider bug",
        delivery,
        reply,
        f"parse the body strictly once the signature is verified and answer 400/413/415 when it fails; "
        f"replay with --seed {ctx.seed}",
    )
    finding.shrunk = reason.startswith("a fuzzed body")
    return [finding], notes


def still_invalid(ctx: CheckContext, delivery: Delivery) -> bool:
    """The body still fails the schema of its event type (a shrunk body may have become valid)."""
    try:
        value: Any = ctx.provider.decode(delivery.body)
    except (ValueError, RecursionError):
        return True
    items = value if ctx.provider.body.shape == "batch" and isinstance(value, list) else [value]
    if ctx.provider.body.shape == "batch" and not isinstance(value, list):
        return True
    for index, item in enumerate(items):
        event = delivery.event_types[index] if index < len(delivery.event_types) else None
        if event is None or event not in ctx.provider.events or not ctx.provider.is_valid(event, item):
            return True
    return False


@check(
    "rejects-schema-violations",
    "Parsable but schema-invalid bodies get a 4xx",
    65,
    category="validation",
    bugs=("accepts-invalid",),
    sends=SECRET_HOLDER,
    gated=True,
)
def rejects_schema_violations(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Missing required fields and wrong types; with a probe, say whether the invalid event was stored."""
    out = []
    notes: list[str] = []
    accepted: list[tuple[Delivery, Reply, str]] = []
    for delivery, reason in _invalid_variants(ctx):
        signed = ctx.sign(delivery)
        reply = ctx.send(signed, reason)
        if not is_4xx(reply) and still_invalid(ctx, signed):
            accepted.append((signed, reply, reason))
    stored: dict[str, int] = {}
    if ctx.probe is not None and accepted:
        keys = [k for signed, reply, _ in accepted if reply.ok for k in signed.idempotency_keys]
        stored = ctx.settled_counts(keys) if keys else {}
    judged: set[str] = set()
    for signed, reply, reason in accepted:
        verdict = "accepted" if reply.ok else "not refused with a 4xx"
        effect = ""
        fresh = [k for k in signed.idempotency_keys if k not in judged]  # variants of one payload share a key
        judged.update(fresh)
        if reply.ok and fresh and stored:
            n = max(stored.get(k, 0) for k in fresh)
            effect = " and stored as if valid" if n else " (acknowledged, but nothing was stored)"
        out.append(
            ctx.violation(
                "rejects-schema-violations",
                f"A schema-invalid event ({reason}) was {verdict}{effect}",
                "a 4xx: an event that breaks the provider's schema should not be processed as if valid",
                signed,
                reply,
                "validate the fields you rely on before storing; if you read only a few fields on purpose "
                "(tolerant reader), keep this check at warn",
            )
        )
    return out, notes


_SHARED: dict[tuple[int, str], tuple[Provider, st.SearchStrategy[Any]]] = {}
_SHARED_LIMIT = 256


def _shared(prov: Provider, name: str, build: Callable[[], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A strategy built once per provider profile, not once per run: strategies are immutable, and building one costs
    Hypothesis a look at the source of every ``composite`` in it and a walk over the whole tree."""
    key = (id(prov), name)
    cached = _SHARED.get(key)
    if cached is None or cached[0] is not prov:
        if len(_SHARED) >= _SHARED_LIMIT:
            _SHARED.clear()
        cached = _SHARED[key] = (prov, build())
    return cached[1]


def _garbage_strategy(ctx: CheckContext, base: Delivery) -> st.SearchStrategy[Delivery]:
    """Malformed and schema-invalid deliveries; everything drawn is a function of Hypothesis' choices alone."""
    prov = ctx.provider

    def from_invalid(bad: Any) -> Delivery:
        body = [bad.payload] if prov.body.shape == "batch" else bad.payload
        return build_delivery(prov, body, event_types=[bad.event], label=f"invalid: {bad.reason}")

    def from_malformed(bad: Any) -> Delivery:
        return base.replace(body=bad.body, label=bad.reason).with_headers({"Content-Type": bad.content_type})

    def small_malformed() -> st.SearchStrategy[Any]:
        small = malformed_bodies(prov).filter(lambda b: len(b.body) <= 2 * 1024 * 1024)
        if prov.body.format == "form":  # a form cut short, or of another shape, may still be an event: not garbage
            small = small.filter(lambda b: not _valid_form(prov, b.body))
        return small

    invalid = _shared(prov, "invalid", lambda: invalid_payloads(prov).map(from_invalid))
    return st.one_of(invalid, _shared(prov, "malformed", small_malformed).map(from_malformed))


def _valid_form(prov: Provider, body: bytes) -> bool:
    """The form body reads back as an event a correct receiver takes: a valid one, or one of a type it does not know."""
    try:
        value = prov.decode(body)
    except ValueError:
        return False
    name = resolve_pointer(value, prov.event_type.pointer) if prov.event_type.where == "body" else None
    return isinstance(name, str) and (name not in prov.events or prov.is_valid(name, value))


def _garbage_examples(base: Delivery) -> list[Delivery]:
    """The explicit examples Hypothesis tries first."""
    return [base.replace(body=b'{"truncated": ', label="malformed JSON"), base.replace(body=b"", label="empty body")]


class _OutOfBudget(BaseException):
    """Raised inside the Hypothesis test to end the run: Hypothesis lets non-Exception errors through untouched."""


def _fuzz(
    ctx: CheckContext,
    strategy: st.SearchStrategy[Delivery],
    examples: list[Delivery],
    fails: Callable[[Reply], bool],
) -> tuple[tuple[Delivery, Reply] | None, int, str]:
    """Send signed draws of ``strategy``; the smallest failing (delivery, reply) after shrinking, the count sent, and
    why the run stopped early (if it did)."""
    failing: list[tuple[Delivery, Reply]] = []
    calls = {"after_failure": 0, "sent": 0}  # after_failure counts shrink draws, sent or not (a draw costs CPU)
    started = time.monotonic()

    def out_of_budget() -> bool:
        return time.monotonic() - started > _FUZZ_SECONDS or bool(failing and calls["after_failure"] >= _SHRINK_BUDGET)

    def gate(_: None) -> None:
        if out_of_budget():  # before the draw: a shrink attempt that dies while drawing still counts
            raise _OutOfBudget
        if failing:
            calls["after_failure"] += 1

    def attempt(delivery: Delivery) -> None:
        if out_of_budget():
            raise _OutOfBudget  # stops Hypothesis at once; the smallest failure so far stands
        signed = ctx.sign(delivery)
        reply = ctx.send(signed, "fuzz")
        calls["sent"] += 1
        if fails(reply):
            failing.append((signed, reply))
            raise AssertionError(reply.describe())

    @settings(
        max_examples=ctx.max_examples,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        derandomize=False,
    )
    @hypothesis_seed(ctx.seed)
    @given(st.tuples(st.none().map(gate), strategy).map(lambda pair: pair[1]))
    def never_crashes(delivery: Delivery) -> None:
        attempt(delivery)

    # No database, so no key: without this Hypothesis hashes the test's source (tokenising bodies.py) on every run.
    never_crashes._hypothesis_internal_database_key = None  # type: ignore[attr-defined]
    try:
        for explicit in examples:  # Hypothesis' explicit phase, without the report it formats for every example
            attempt(explicit)  # a failure here ends the run unshrunk, as an explicit example's does
        never_crashes()
    except _OutOfBudget:
        pass
    except HarnessError:
        raise
    except Exception:  # the failure itself (or Hypothesis' report of it)
        if not failing:
            raise
    cut = f" (stopped after {_FUZZ_SECONDS:g} s)" if time.monotonic() - started > _FUZZ_SECONDS else ""
    smallest = min(failing, key=lambda pair: len(pair[0].body)) if failing else None
    return smallest, calls["sent"], cut


def _no_answer(reply: Reply) -> bool:
    """A 5xx or no answer at all (a request the run budget kept from being sent does not count)."""
    return reply.status >= 500 or (reply.status == 0 and "not sent" not in (reply.error or ""))


@check(
    "no-server-error",
    "No request the provider sends, in this check or anywhere in the run, gets a 5xx, a reset or a timeout",
    190,
    category="robustness",
    bugs=("duplicate-500",),
    sends=PROVIDER_SENDS,
    gated=True,
)
def no_server_error(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Hypothesis draws valid deliveries and ones with what providers add; then every provider-sends request of the run
    is judged."""
    prov = ctx.provider
    valid = _shared(prov, "valid", lambda: st.one_of(novel_deliveries(prov), deliveries(prov)))
    found, sent, cut = _fuzz(ctx, valid, [], _no_answer)
    notes = [f"{sent} fuzzed valid deliveries{cut}, seed {ctx.seed}"]
    judged = ctx.sent(PROVIDER_SENDS)
    bad = [e for e in judged if _no_answer(e.reply)]
    notes.append(f"{len(judged)} provider-sends requests of the run judged")
    if not bad:
        return [], notes
    if found is not None:
        delivery, reply = found
        label = f"a fuzzed delivery, shrunk: {delivery.label or 'valid'}"
    else:
        worst = min(bad, key=lambda e: len(e.delivery.body))
        delivery, reply, label = worst.delivery, worst.reply, worst.label
    kinds = sorted({f"HTTP {e.reply.status}" if e.reply.status else "no answer" for e in bad})
    where = "; ".join(dict.fromkeys(e.label for e in bad))
    finding = ctx.violation(
        "no-server-error",
        f"{len(bad)} of {len(judged)} requests the provider sends got a 5xx or no answer (smallest: {label})",
        "no 5xx, no reset connection, no timeout: the provider sends this, and retries a server error with the "
        "same input",
        delivery,
        reply,
        f"{', '.join(kinds)} on: {where[:300]}; the provider retries the same input, so the error repeats until "
        f"the event is dropped (replay with --seed {ctx.seed})",
    )
    finding.shrunk = found is not None
    return [finding], notes


_SIZE_TRIES = 20  # draws tried for a body that, with what a check adds, still fits the provider's size cap


def _within_size_cap(prov: Provider, make: Callable[[], Delivery]) -> Delivery:
    """A delivery from ``make`` (signed) whose body fits the provider's size cap: a provider never sends more, so a body
    that a check's additions pushed over it would be refused rightly (SNS's 256 KB ``Message`` plus a new field)."""
    cap = min(prov.body.max_bytes, prov.body.batch_max_bytes or prov.body.max_bytes)
    delivery = make()
    for _ in range(_SIZE_TRIES):
        if len(delivery.body) <= cap:
            break
        delivery = make()
    return delivery


@check(
    "accepts-unknown-fields",
    "Unknown fields and unknown event types get a 2xx",
    80,
    category="acceptance",
    bugs=("strict-fields",),
    sends=PROVIDER_SENDS,
    gated=True,
)
def accepts_unknown_fields(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Providers add both without notice."""
    prov = ctx.provider
    out = []
    event = ctx.baseline_event

    def with_fields() -> Delivery:
        payload = copy.deepcopy(ctx.generator.payload(event))
        if isinstance(payload, dict):
            payload["x_harness_new_field"] = "added by the provider"
            nested = next((k for k, v in payload.items() if isinstance(v, dict)), None)
            if nested:
                payload[nested] = {**payload[nested], "x_harness_nested_field": 42}
        body = [payload] if prov.body.shape == "batch" else payload
        return build_delivery(prov, body, event_types=[event], rng=ctx.rng, label="unknown fields")

    def of_novel_type() -> Delivery:
        novel = copy.deepcopy(ctx.generator.payload(event))
        headers = None
        if prov.event_type.where == "body" and isinstance(novel, dict):
            set_pointer(novel, prov.event_type.pointer, prov.event_type_value(NOVEL_EVENT))
        else:
            headers = {prov.event_type.name: NOVEL_EVENT}
        novel_body = [novel] if prov.body.shape == "batch" else novel
        return build_delivery(
            prov, novel_body, event_types=[NOVEL_EVENT], rng=ctx.rng, headers=headers, label="unknown event type"
        )

    cases = [
        (_within_size_cap(prov, lambda: ctx.sign(with_fields())), "unknown fields"),
        (_within_size_cap(prov, lambda: ctx.sign(of_novel_type())), f"an unknown event type ({NOVEL_EVENT})"),
    ]
    for signed, what in cases:
        reply = ctx.send(signed, what)
        if not reply.ok:
            found = ctx.violation(
                "accepts-unknown-fields",
                f"A delivery with {what} was refused",
                "a 2xx: providers add fields and event types without notice",
                signed,
                reply,
                "ignore what you don't know instead of rejecting it",
            )
            if signed.label == "unknown event type" and 400 <= reply.status < 500:
                # Providers deliver only the types an endpoint subscribes to, so a refused new type is a warning;
                # unknown fields on a subscribed type stay an error.
                found.advisory = True
                found.hint = "acknowledge event types you do not handle, or they fail once you subscribe to them"
            out.append(found)
    return out, []
