"""What every check gets (the context) and gives back (an outcome), plus the helpers they share."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.catalog import Catalog, Provider
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials, Redactor
from harness.probes import Probe
from harness.settle import DEFAULT_TIMEOUT, settle_counts
from harness.signing import active_schemes, sign_delivery
from harness.transport import Transport
from harness.violations import ContractViolation
from harness.volume import VolumeGenerator

__all__ = ["Check", "CheckContext", "CheckOutcome", "Exchange"]

_GATE_TRIES = 4  # event types tried before a run is declared blocked (one refused type is accepts-valid's finding)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the check sent and what came back."""

    label: str
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
    _gate: tuple[str | None] | None = field(default=None, repr=False)
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

    def send(self, delivery: Delivery, label: str = "", *, timeout: float | None = None) -> Reply:
        """Send and remember the exchange."""
        wait = timeout or self.http_timeout
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            reply = Reply(0, {}, b"", 0.0, error="timed out: not sent, the run budget (--max-time) is spent")
        else:
            reply = self.transport.send(delivery, self.url, timeout=wait if remaining is None else min(wait, remaining))
        with self._lock:
            self.exchanges.append(Exchange(label or delivery.label, delivery, reply))
        return reply

    def violation(
        self, check: str, title: str, expected: str, delivery: Delivery | None, reply: Reply | None, hint: str = ""
    ) -> ContractViolation:
        """A finding with a reproducible, redacted curl command."""
        from harness.repro import curl_command

        received = self.redactor(reply.describe()) if reply is not None else "n/a"
        repro = curl_command(delivery, self.url, self.redactor) if delivery is not None else ""
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
                reply = self.send(self.sign(self._plain(self.unsigned(event))), f"valid {event} (gate)")
                if reply.ok:
                    cause = None
                    break
                if cause == "no event type to send":
                    cause = blocked_cause(reply)
                if reply.status in (0, 401, 403, 404, 405):  # the URL or the credentials: no other event helps
                    break
            self._gate = (cause,)
        return self._gate[0]

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


def blocked_cause(reply: Reply) -> str:
    """What a refused correct delivery most likely means, for the checks it blocks."""
    if reply.status == 0:
        return f"the valid delivery itself got {reply.describe()}: is the receiver up and the URL right?"
    got = f"the valid delivery itself got HTTP {reply.status}"
    guesses = {404: "wrong URL?", 405: "wrong URL or method?", 401: "wrong secret or key?", 403: "wrong secret or key?"}
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
