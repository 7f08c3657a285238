"""What every check gets (the context) and gives back (an outcome), plus the helpers they share."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.catalog import Catalog, Provider
from harness.checks._classes import ANYONE, PROVIDER_SENDS
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials, Redactor
from harness.probes.counts import Probe
from harness.probes.settle import DEFAULT_TIMEOUT, settle_counts
from harness.probes.state import StateProbe
from harness.signing import active_schemes, sign_delivery
from harness.transport import Transport
from harness.violations import ContractViolation
from harness.volume import VolumeGenerator

__all__ = ["Check", "CheckContext", "CheckOutcome", "Exchange", "Forgery"]

_GATE_TRIES = 4  # event types tried before a run is declared blocked (one refused type is accepts-valid's finding)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the check sent and what came back."""

    label: str
    delivery: Delivery
    reply: Reply
    sender: str = PROVIDER_SENDS  # the input class: who could have sent this request


@dataclass(frozen=True, slots=True)
class Forgery:
    """A forged request the run sent once, to see whether the receiver checks credentials at all."""

    what: str
    delivery: Delivery
    reply: Reply


@dataclass
class CheckOutcome:
    """A check's result: passed, failed, warned, skipped or blocked, with violations and notes."""

    check: str
    title: str
    status: str
    violations: list[ContractViolation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    duration: float = 0.0
    severity: str = "error"
    input_class: str = PROVIDER_SENDS
    same_cause_as: str | None = None  # its finding is reported once, under this check
    library_warnings: list[str] = field(default_factory=list)  # what libraries warned while it ran

    @property
    def failed(self) -> bool:
        """The outcome fails the run: a finding at severity error, or a check blocked by the valid-delivery gate."""
        return self.status in ("failed", "blocked")


@dataclass
class CheckContext:
    """Everything a check needs about the provider, the receiver and the run."""

    provider: Provider
    catalog: Catalog
    url: str
    credentials: Credentials
    transport: Transport
    timeout: float
    probe: Probe | None = None
    seed: int = 0
    max_examples: int = 20
    callback_host: str = "127.0.0.1"
    redactor: Redactor = field(default_factory=Redactor)
    exchanges: list[Exchange] = field(default_factory=list)
    deadline: float | None = None  # time.monotonic() at which the run budget (--max-time) is spent
    settle_timeout: float = DEFAULT_TIMEOUT
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    slowest_settle: float = 0.0
    state_probe: StateProbe | None = None  # the receiver's view of one object (the converges check)
    state_fields: Sequence[str] = ()
    sender: str = PROVIDER_SENDS  # the input class of what ``send`` sends unless told: the running check's
    _gate: tuple[str | None] | None = field(default=None, repr=False)
    _forgeries: tuple[list[Forgery] | None] | None = field(default=None, repr=False)
    _forgery_owner: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed ^ 0x9E3779B9)  # its own stream: the generator is seeded with the seed itself
        self.generator = VolumeGenerator(self.provider, seed=self.seed)

    @property
    def http_timeout(self) -> float:
        """How long the transport waits: twice the provider's timeout, so a late answer is still seen."""
        return self.timeout * 2

    @property
    def budget_spent(self) -> bool:
        """The run budget (--max-time) is used up: no more requests go out."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    @property
    def signs_body(self) -> bool:
        """An active scheme signs the body."""
        return any(s.signs_body for s in active_schemes(self.provider, self.credentials))

    @property
    def timestamped(self) -> bool:
        """An active scheme signs a timestamp and the provider documents a tolerance."""
        schemes = active_schemes(self.provider, self.credentials)
        return self.provider.auth.tolerance is not None and any(s.timestamped for s in schemes)

    @property
    def baseline_event(self) -> str:
        """The event type checks use when the type does not matter (accepts-valid covers every type)."""
        return sorted(self.provider.ordinary_events)[0]

    def unsigned(self, event: str | None = None, *, batch: int | None = None) -> Delivery:
        """A realistic unsigned delivery (1 to 3 events for a batch provider)."""
        with self._lock:
            size = batch or (self.rng.randint(1, 3) if self.provider.body.shape == "batch" else 1)
            return next(self.generator.deliveries(1, event or self.baseline_event, batch_size=size))

    def signed(self, event: str | None = None) -> Delivery:
        """A realistic, correctly authenticated delivery."""
        return self.sign(self.unsigned(event))

    def sign(self, delivery: Delivery, *, now: float | None = None) -> Delivery:
        """Authenticate with every configured scheme, for the URL under test."""
        return sign_delivery(self.provider, delivery, self.credentials, now=now, url=self.url)

    def send(
        self,
        delivery: Delivery,
        label: str = "",
        *,
        timeout: float | None = None,
        sender: str | None = None,
        url: str | None = None,
    ) -> Reply:
        """Send and remember the exchange, tagged with who could have sent it (default: the running check's class).

        ``url``: another target than the URL under test (the same URL with a handshake's query parameter).
        """
        wait = timeout or self.http_timeout
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            reply = Reply(0, {}, b"", 0.0, error="timed out: not sent, the run budget (--max-time) is spent")
        else:
            target = url or self.url
            reply = self.transport.send(delivery, target, timeout=wait if remaining is None else min(wait, remaining))
        with self._lock:
            self.exchanges.append(Exchange(label or delivery.label, delivery, reply, sender or self.sender))
        return reply

    def sent(self, sender: str) -> list[Exchange]:
        """Every request of the run so far of one input class, wherever it was sent."""
        with self._lock:
            return [e for e in self.exchanges if e.sender == sender]

    def violation(
        self,
        check: str,
        title: str,
        expected: str,
        delivery: Delivery | None,
        reply: Reply | None,
        hint: str = "",
        *,
        url: str | None = None,
    ) -> ContractViolation:
        """A finding with a reproducible, redacted curl command (``url``: where it was sent, if not the URL)."""
        from harness.repro import curl_command

        received = self.redactor(reply.describe()) if reply is not None else "n/a"
        repro = curl_command(delivery, url or self.url, self.redactor) if delivery is not None else ""
        payload = ""
        if delivery is not None:
            payload = self.redactor(delivery.body[:600].decode("utf-8", "replace"))
        return ContractViolation(check, title, expected, received, hint=hint, repro=repro, payload=payload)

    def _plain(self, delivery: Delivery) -> Delivery:
        """The delivery with non-ASCII text escaped (\\uXXXX): the gate tests the URL and keys, not text handling."""
        if delivery.body.isascii() or delivery.payload is None:
            return delivery
        return delivery.replace(body=self.provider.encode(delivery.payload, ascii_only=True))

    def gate(self) -> str | None:
        """Why a correct delivery does not get through (once per run), or ``None`` when it gets a 2xx."""
        if self._gate is None:
            cause: str | None = "no event type to send"
            for event in [self.baseline_event, *self.provider.ordinary_events][:_GATE_TRIES]:
                delivery = self.sign(self._plain(self.unsigned(event)))
                reply = self.send(delivery, f"valid {event} (gate)", sender=PROVIDER_SENDS)
                if reply.ok:
                    cause = None
                    break
                if cause == "no event type to send":
                    cause = blocked_cause(reply)
                if reply.status in (0, 404, 405) or refused_as_unauthenticated(reply):  # no other event type helps
                    break
            self._gate = (cause,)
        return self._gate[0]

    def forged_all(self) -> list[Forgery] | None:
        """The forgeries sent once per run when every one got a 2xx (the signature is not checked), else ``None``.

        Only credential forgeries on well-formed bodies count: no credentials, a wrong key, a changed body.
        """
        from harness.signing import forge_delivery, tamper

        if self._forgeries is None:
            sent: list[Forgery] = []
            for variant, what in (("missing", "no credentials"), ("wrong-key", "signed with the wrong key")):
                forged = forge_delivery(self.provider, self.unsigned(), self.credentials, variant, url=self.url)
                if forged is not None:
                    sent.append(Forgery(what, forged, self.send(forged, f"forgery: {what}", sender=ANYONE)))
            if self.signs_body and sent and all(f.reply.ok for f in sent):
                original = self.signed()
                self.send(original, "valid (before a tampered copy)", sender=PROVIDER_SENDS)
                forged = original.replace(body=tamper(self.provider, original.body), label="tampered-body")
                sent.append(Forgery("a valid signature over a changed body", forged, self.send(forged, sender=ANYONE)))
            every = len(sent) >= 2 and all(f.reply.ok for f in sent)
            self._forgeries = (sent if every else None,)
        return self._forgeries[0]

    def claim_forgery_finding(self, check_id: str) -> str:
        """The check that reports "every forgery was accepted": the first to ask."""
        with self._lock:
            self._forgery_owner = self._forgery_owner or check_id
            return self._forgery_owner

    def settled_counts(self, keys: Sequence[str]) -> dict[str, int]:
        """The probe's counts once they have settled (a queue-first receiver stores a moment after its 2xx)."""
        assert self.probe is not None
        settled = settle_counts(self.probe, keys, timeout=self.settle_timeout, clock=self.clock, sleep=self.sleep)
        with self._lock:
            self.slowest_settle = max(self.slowest_settle, settled.settle_time)
        return settled.counts

    def scheme_names(self) -> list[str]:
        """The active schemes, for messages."""
        return [s.name for s in active_schemes(self.provider, self.credentials)]


@dataclass(frozen=True)
class Check:
    """A registered contract check."""

    id: str
    title: str
    order: int
    applies: Callable[[CheckContext], str | None]
    run: Callable[[CheckContext], tuple[list[ContractViolation], list[str]]]
    category: str = "other"
    severity: str = "error"
    bugs: tuple[str, ...] = ()
    gated: bool = False
    input_class: str = PROVIDER_SENDS
    forgery: bool = False


_AUTH_WORDS = re.compile(rb"signature|unauthori[sz]ed|credential|hmac|forbidden|not authenticated|verif", re.I)


def refused_as_unauthenticated(reply: Reply) -> bool:
    """A 401/403, or a 400 whose body says authentication failed ("invalid signature"): the secret or key is wrong."""
    if reply.status in (401, 403):
        return True
    return reply.status == 400 and bool(_AUTH_WORDS.search(reply.body[:2048]))


def blocked_cause(reply: Reply) -> str:
    """What a refused correct delivery most likely means, for the checks it blocks."""
    if reply.status == 0:
        return f"the valid delivery itself got {reply.describe()}: is the receiver up and the URL right?"
    got = f"the valid delivery itself got HTTP {reply.status}"
    if refused_as_unauthenticated(reply):
        said = "" if reply.status in (401, 403) else " saying authentication failed"
        return f"{got}{said}: wrong secret or key?"
    guesses = {404: "wrong URL?", 405: "wrong URL or method?"}
    if reply.status in guesses:
        return f"{got}: {guesses[reply.status]}"
    if reply.status >= 500:
        return f"{got}: the receiver fails on correct deliveries"
    if 300 <= reply.status < 400:
        return f"{got}: providers do not follow redirects; give the final URL"
    return f"{got}: the receiver refuses correct deliveries"


def is_4xx(reply: Reply) -> bool:
    """A client-error answer."""
    return 400 <= reply.status < 500


def now() -> float:
    """The wall clock (a seam for tests)."""
    return time.time()
