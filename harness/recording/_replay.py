"""Replaying recorded deliveries: the plan (order, copies, filter, fresh keys), re-signing for now, and the verdict."""

from __future__ import annotations

import json
import random
import secrets
import string
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials, Redactor
from harness.errors import ConfigError, TransportError, UsageError
from harness.probes.counts import Probe
from harness.recording._convert import to_delivery
from harness.recording._format import Record, is_auth_header
from harness.transport import RequestsTransport, Transport
from harness.violations import ContractViolation

__all__ = ["ORDERS", "PlannedSend", "ReplayOptions", "ReplayResult", "plan_replay", "replay", "resign"]

ORDERS = ("original", "reverse", "shuffle")
MAX_SHUFFLED = 1_000_000  # sends a shuffled plan holds in memory; original and reverse order are streamed
MAX_KEPT = 10_000  # sends kept for the report's per-delivery list; every send is counted
MAX_FINDINGS = 100  # findings kept; the rest are counted


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay: order, copies of each delivery, send rate, event filter, fresh keys, settle wait."""

    order: str = "original"
    duplicates: int = 1
    rate: float | None = None
    events: tuple[str, ...] = ()
    new_ids: bool = False
    seed: int | None = None
    settle: float = 1.0
    timeout: float | None = None
    include_failed: bool = False

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise UsageError(f"Unknown order {self.order!r}. Known: {', '.join(ORDERS)}.")
        if self.duplicates < 1:
            raise UsageError("--duplicates must be at least 1.")
        if self.rate is not None and self.rate <= 0:
            raise UsageError("--rate must be a positive number of deliveries per second.")


@dataclass(frozen=True)
class PlannedSend:
    """One send of the plan: which recorded delivery, which copy, and the unsigned delivery to sign."""

    number: int
    copy: int
    source: str
    delivery: Delivery


@dataclass
class SentDelivery:
    """One send and what came back."""

    planned: PlannedSend
    signed: Delivery
    reply: Reply


@dataclass
class ReplayResult:
    """Every send, the findings, and the probe's counts."""

    provider: str
    url: str
    seed: int
    sent: list[SentDelivery] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    violations: list[ContractViolation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    probed: bool = False
    duration: float = 0.0
    total: int = 0  # sends made (``sent`` keeps the first ``MAX_KEPT``)
    acknowledged: int = 0
    findings: int = 0  # findings (``violations`` keeps the first ``MAX_FINDINGS``)
    interrupted: bool = False
    keys: dict[str, None] = field(default_factory=dict)  # the acknowledged idempotency keys, in order

    @property
    def exit_code(self) -> int:
        """130 when interrupted; 1 when a delivery was refused or a key was not stored exactly once."""
        if self.interrupted:
            return 130
        return 1 if self.findings or self.violations else 0

    def record(self, sent: SentDelivery) -> None:
        """Count one send (and keep it while under ``MAX_KEPT``)."""
        self.total += 1
        self.acknowledged += sent.reply.ok
        if sent.reply.ok:
            self.keys.update(dict.fromkeys(sent.signed.idempotency_keys))
        if len(self.sent) < MAX_KEPT:
            self.sent.append(sent)

    def finding(self, violation: ContractViolation) -> None:
        """Count one finding (and keep it while under ``MAX_FINDINGS``)."""
        self.findings += 1
        if len(self.violations) < MAX_FINDINGS:
            self.violations.append(violation)

    def to_json(self, redact: Redactor) -> dict[str, Any]:
        """The JSON report (redacted)."""
        from harness import __version__
        from harness.credentials import redact_url

        acknowledged = self.acknowledged
        return {
            "tool": {"name": "webhook-harness", "version": __version__},
            "command": "replay",
            "provider": self.provider,
            "url": redact(redact_url(self.url)),
            "seed": self.seed,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "duration": round(self.duration, 3),
            "summary": {
                "sent": self.total,
                "acknowledged": acknowledged,
                "refused": self.total - acknowledged,
                "findings": self.findings,
                "skipped": len(self.skipped),
                "keys_probed": len(self.counts) if self.probed else None,
                "keys_stored_once": sum(n == 1 for n in self.counts.values()) if self.probed else None,
            },
            "deliveries": [
                {
                    "number": s.planned.number,
                    "copy": s.planned.copy,
                    "source": s.planned.source,
                    "event_types": list(s.signed.event_types),
                    "idempotency_keys": list(s.signed.idempotency_keys),
                    "status": s.reply.status,
                    "elapsed": round(s.reply.elapsed, 4),
                    "error": s.reply.error,
                }
                for s in self.sent
            ],
            "skipped": [redact(s) for s in self.skipped],
            "counts": self.counts if self.probed else None,
            "violations": [
                {
                    "check": v.check,
                    "title": redact(v.title),
                    "expected": v.expected,
                    "received": redact(v.received),
                    "repro": redact(v.repro),
                }
                for v in self.violations
            ],
        }


def _strip_auth(provider: Provider, delivery: Delivery) -> Delivery:
    """The delivery without the recorded credentials: signature, timestamp and Authorization headers."""
    from harness.signing import scheme_for

    names = {n.lower() for scheme in provider.auth.schemes for n in scheme_for(provider, scheme).headers}
    idempotency = provider.idempotency_key.name.lower() if provider.idempotency_key.where == "header" else ""
    drop = [  # every credential-like header goes: replay sends only what it signs itself
        k
        for k in delivery.headers
        if k.strip().lower() != idempotency
        and (is_auth_header(k) or (k.lower() in names and not k.lower().endswith("-id")))
    ]
    return delivery.without_headers(drop) if drop else delivery


def _fresh_key(old: str, rng: random.Random) -> str:
    """A new key shaped like ``old``: its prefix kept, up to its last 12 letters and digits redrawn per class."""
    cut = max(old.rfind("_"), old.rfind("."), -1) + 1
    if sum(c.isascii() and c.isalnum() for c in old[cut:]) < 4:  # too little after the separator: redraw across it
        cut = 0
    head, tail = old[:cut], list(old[cut:])
    changed = 0
    for index in range(len(tail) - 1, -1, -1):
        char = tail[index]
        if changed >= 12:
            break
        if char.isdigit():
            pool = string.digits
        elif char in "abcdef":
            pool = "abcdef"
        elif char in "ABCDEF":
            pool = "ABCDEF"
        elif char.isascii() and char.islower():
            pool = string.ascii_lowercase
        elif char.isascii() and char.isupper():
            pool = string.ascii_uppercase
        else:
            continue
        tail[index] = rng.choice(pool)
        changed += 1
    new = head + "".join(tail)
    return new if new != old and changed else old + "-" + secrets.token_hex(4)


def _renew_keys(provider: Provider, delivery: Delivery, fresh: Callable[[str], str]) -> Delivery:
    """The same delivery under new idempotency keys; body bytes change only where a key is written."""
    loc = provider.idempotency_key
    if not delivery.idempotency_keys:
        return delivery
    if loc.where == "header":
        old = delivery.header(loc.name) or ""
        new = fresh(old)
        return delivery.with_headers({loc.name: new}, idempotency_keys=(new,))
    from harness.deliveries import idempotency_keys_of

    body = delivery.body
    for old in dict.fromkeys(delivery.idempotency_keys):
        quoted = json.dumps(old, ensure_ascii=False).encode()  # a key written as a JSON string, byte for byte
        if quoted in body:
            body = body.replace(quoted, json.dumps(fresh(old), ensure_ascii=False).encode())
    if body == delivery.body:
        return delivery  # keys written some other way (numbers, escapes) stay as recorded
    payload = json.loads(body)
    keys = idempotency_keys_of(provider, delivery.headers, payload)  # read back: what a receiver will see
    return delivery.replace(body=body, payload=payload, idempotency_keys=keys)


def plan_replay(
    provider: Provider, records: Iterable[Record], options: ReplayOptions, *, seed: int = 0
) -> tuple[list[PlannedSend], list[str]]:
    """The sends in order, and why any recorded delivery is left out (handshakes, the event filter)."""
    sends, skipped, _ = stream_plan(provider, records, options, seed=seed)
    return list(sends), skipped


def stream_plan(
    provider: Provider, records: Iterable[Record], options: ReplayOptions, *, seed: int = 0
) -> tuple[Iterator[PlannedSend], list[str], int]:
    """The sends as a stream (copies are not materialised), the skipped notes, and how many sends there will be.

    A shuffled plan is held in memory, so it is refused over ``MAX_SHUFFLED`` sends.
    """
    rng = random.Random(seed)
    renamed: dict[str, str] = {}

    def fresh(old: str) -> str:
        if old not in renamed:
            renamed[old] = _fresh_key(old, rng)
        return renamed[old]

    chosen: list[tuple[int, str, Delivery]] = []
    skipped: list[str] = []
    handshake = provider.handshake
    for number, record in enumerate(records, 1):
        where = record.source or f"delivery {number}"
        _require_sendable(record, where)
        delivery = _strip_auth(provider, to_delivery(provider, record))
        if record.method != provider.method:
            skipped.append(f"{where}: a {record.method} request, not a {provider.id} delivery ({provider.method})")
            continue
        if record.verified is False and not options.include_failed:
            skipped.append(f"{where}: failed verification when recorded (--include-failed replays it re-signed)")
            continue
        if handshake is not None and _is_handshake(provider, delivery, record.query):
            skipped.append(f"{where}: the {handshake.event or handshake.kind} handshake is not replayed")
            continue
        if options.events and not any(  # a name, a glob, or a family of action types (GitHub's pull_request)
            fnmatchcase(kind, p) or kind.startswith(f"{p}.") for p in options.events for kind in delivery.event_types
        ):
            continue
        if options.new_ids:
            delivery = _renew_keys(provider, delivery, fresh)
        chosen.append((number, where, delivery))
    if options.order == "reverse":
        chosen.reverse()
    total = len(chosen) * options.duplicates
    if options.order != "shuffle":
        return (PlannedSend(n, c, w, d) for n, w, d in chosen for c in range(1, options.duplicates + 1)), skipped, total
    if total > MAX_SHUFFLED:
        raise UsageError(
            f"--order shuffle with --duplicates {options.duplicates} would plan {total:,} sends (over"
            f" {MAX_SHUFFLED:,}); use fewer copies, or original or reverse order (streamed)."
        )
    plan = [PlannedSend(n, c, w, d) for n, w, d in chosen for c in range(1, options.duplicates + 1)]
    rng.shuffle(plan)
    seen: dict[int, int] = {}
    for index, send in enumerate(plan):  # copies numbered in the order they go out
        seen[send.number] = seen.get(send.number, 0) + 1
        plan[index] = PlannedSend(send.number, seen[send.number], send.source, send.delivery)
    return iter(plan), skipped, total


def _require_sendable(record: Record, where: str) -> None:
    """HTTP carries header names and values as Latin-1 text: a recorded header that is not is a one-line error."""
    for name, value in record.headers.items():
        try:
            name.encode("latin-1")
            value.encode("latin-1")
        except UnicodeEncodeError:
            from harness.core.text import printable

            raise UsageError(
                f"{where}: the header {printable(name, newlines=False)!r} is not Latin-1 text, so HTTP cannot send"
                " it as recorded; edit or drop that record."
            ) from None


def _is_handshake(provider: Provider, delivery: Delivery, query_string: str = "") -> bool:
    from urllib.parse import parse_qsl

    from harness.receiver import is_handshake

    first = delivery.event_types[0] if delivery.event_types else None
    query = dict(parse_qsl(query_string or "", keep_blank_values=True))
    return is_handshake(provider, delivery.headers, delivery.payload, first, query)


def resign(provider: Provider, delivery: Delivery, creds: Credentials, now: float, url: str | None = None) -> Delivery:
    """The recorded delivery authenticated for ``now`` (and the replay target ``url``): same bytes and key, fresh
    timestamp, signature and token."""
    from harness.signing import sign_delivery

    return sign_delivery(provider, _strip_auth(provider, delivery), creds, now=now, url=url)


def require_credentials(provider: Provider, creds: Credentials) -> None:
    """Refuse to replay unsigned for a provider that signs: the user must give the signing credentials."""
    from harness.signing import active_schemes

    if provider.auth.schemes and not active_schemes(provider, creds):
        wanted = ", ".join(provider.auth.schemes)
        from harness.preflight import scheme_hint

        hints = dict.fromkeys(scheme_hint(provider, name) for name in provider.auth.schemes)
        raise ConfigError(
            f"Replaying {provider.id} needs credentials to sign with ({wanted}): give {' or '.join(hints)}."
        )


def replay(
    provider: Provider,
    records: Sequence[Record],
    url: str,
    creds: Credentials,
    options: ReplayOptions = ReplayOptions(),
    *,
    probe: Probe | None = None,
    transport: Transport | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_send: Callable[[SentDelivery], None] | None = None,
) -> ReplayResult:
    """Send every planned delivery re-signed for ``clock()``, then (with a probe) count each key once.

    ``--rate`` paces sends on ``monotonic`` with ``sleep``; tests inject both so no real time passes.
    """
    from harness.repro import curl_command

    require_credentials(provider, creds)
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
    plan, skipped, total = stream_plan(provider, records, options, seed=seed)
    if total == 0:
        why = f"every recorded delivery was left out ({len(skipped)} skipped" if skipped else "no recorded delivery"
        why += ", or none matches --filter)" if skipped else " matches (an empty recording, or --filter)"
        raise UsageError(f"Nothing to replay: {why}.")
    result = ReplayResult(provider.id, url, seed, skipped=skipped)
    transport = transport or RequestsTransport()
    timeout = options.timeout or provider.timeout
    redact = Redactor(creds.secrets())
    started = time.perf_counter()
    interval = 1.0 / options.rate if options.rate else 0.0

    def send_all() -> None:
        next_at = monotonic()
        for index, planned in enumerate(plan):
            if interval:
                wait = next_at - monotonic()
                if wait > 0:
                    sleep(wait)
                next_at = max(next_at, monotonic()) + interval
            signed = resign(provider, planned.delivery, creds, clock(), url)
            reply = transport.send(signed, url, timeout=timeout)
            if (
                index == 0
                and reply.status == 0
                and reply.error
                and ("refused" in reply.error or "resolve" in reply.error)
            ):
                from harness.credentials import redact_url

                raise TransportError(f"Cannot reach the receiver at {redact_url(url)}: {reply.error}.")
            sent = SentDelivery(planned, signed, reply)
            result.record(sent)
            if on_send is not None:
                on_send(sent)
            if not reply.ok:
                result.finding(
                    ContractViolation(
                        check="replay-acknowledged",
                        title=f"Replayed delivery {planned.number} (copy {planned.copy}) was not acknowledged",
                        expected="a 2xx: the delivery is re-signed for now with its recorded bytes and key",
                        received=reply.describe(),
                        repro=curl_command(signed, url, redact),
                    )
                )

    try:
        send_all()
    except KeyboardInterrupt:
        result.interrupted = True  # keep what was sent: the caller prints and writes it, then exits 130
    if probe is not None and result.total and not result.interrupted:
        if options.settle > 0:
            sleep(options.settle)
        result.probed = True
        for key in result.keys:
            result.counts[key] = count = probe.count(key)
            if count != 1:
                result.finding(
                    ContractViolation(
                        check="replay-single-effect",
                        title=f"Idempotency key {key} was stored {count} times",
                        expected=f"stored exactly once ({probe.describe()})",
                        received=f"{count} rows",
                    )
                )
    result.duration = time.perf_counter() - started
    return result
