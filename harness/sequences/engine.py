"""Play lifecycles against a receiver: the in-order reference, then Hypothesis-drawn schedules, each to a new object."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Lifecycle, Provider
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.sequences.instances import Instance, build_instance
from harness.sequences.schedules import Schedule, first_tries, in_order, schedules
from harness.sequences.state import StateProbe, field_pointers, project
from harness.signing import sign_delivery
from harness.transport import Transport
from harness.volume import VolumeGenerator

__all__ = ["LifecycleResult", "SequenceOptions", "SequenceRunner", "Sent", "Trial"]

POLL = 0.05  # seconds between two state reads while waiting for the state to settle
MAX_SHRINK_CALLS = 150  # schedules tried after the first failure; the smallest failure so far is then reported
SHRINK_SETTLE = 0.25  # while shrinking, a schedule's state is read this long at most; the result is then confirmed


@dataclass(frozen=True)
class SequenceOptions:
    """How many schedules, from which seed, how long the state may take to settle, how many in flight at once."""

    max_examples: int = 50
    seed: int = 0
    settle_timeout: float = 2.0
    concurrency: int = 2
    stagger: float = 0.02  # seconds between two dispatches of one concurrent group (all in flight together)
    timeout: float = 10.0  # per delivery

    def __post_init__(self) -> None:
        if self.max_examples < 1:
            raise UsageError(f"Invalid --max-examples {self.max_examples}: at least 1.")
        if not 1 <= self.concurrency <= 8:
            raise UsageError(f"Invalid --concurrency {self.concurrency}: from 1 to 8.")
        if not self.settle_timeout > 0:
            raise UsageError(f"Invalid --settle-timeout {self.settle_timeout}: a positive duration.")


@dataclass(frozen=True)
class Sent:
    """One delivery as it went out: when (seconds after the schedule began), which step and copy, what came back."""

    number: int
    at: float
    step: int
    label: str
    copy: int
    group: int
    together: int  # how many were in flight in its group
    delivery: Delivery
    reply: Reply


@dataclass
class Trial:
    """One schedule played to one object: what was sent, the settled state, and why it fails (None: it passed)."""

    instance: Instance
    schedule: Schedule
    sent: list[Sent]
    state: dict[str, Any] | None
    expected: Mapping[str, Any] | None
    reason: str | None = None
    settled_after: float = 0.0


@dataclass
class LifecycleResult:
    """A lifecycle's verdict: the reference state, how many schedules ran, and the smallest failure found."""

    provider: str
    lifecycle: Lifecycle
    reference: Trial
    examples: int = 0
    requests: int = 0
    duration: float = 0.0
    failure: Trial | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """The reference matched the expected final state and every schedule converged on it."""
        return self.failure is None


class _Diverged(AssertionError):
    """A schedule that fails the properties (Hypothesis shrinks it)."""


def _matches(state: Mapping[str, Any] | None, expected: Mapping[str, Any] | None) -> bool:
    if expected is None or state is None:
        return state is None and expected is None
    return all(state.get(name) == value for name, value in expected.items())


class SequenceRunner:
    """Sends lifecycles to ``url`` through ``transport`` and reads the receiver's state through ``probe``."""

    def __init__(
        self,
        provider: Provider,
        url: str,
        credentials: Credentials,
        transport: Transport,
        probe: StateProbe,
        options: SequenceOptions,
        *,
        state_fields: Sequence[str] | Mapping[str, str] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.url = url
        self.credentials = credentials
        self.transport = transport
        self.probe = probe
        self.options = options
        self.state_fields = state_fields
        self.clock, self.sleep, self.wall = clock, sleep, wall
        self.rng = random.Random(f"sequences-{options.seed}")  # its own stream: other checks' ids never recur here
        self.generator = VolumeGenerator(provider, seed=self.rng.randrange(2**32))
        self._pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="sequences")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the sending threads."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> SequenceRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one schedule -----------------------------------------------------------------------------------------
    def instance(self, lifecycle: Lifecycle) -> Instance:
        """A fresh object for ``lifecycle``: its steps stamped over the last few minutes."""
        with self._lock:
            start = self.wall() - 3600.0 + self.rng.random() * 60.0
            return build_instance(self.provider, lifecycle, self.rng, start, self.generator)

    def _send(self, event: Delivery, wait: float) -> tuple[float, Delivery, Reply]:
        if wait > 0:
            self.sleep(wait)  # in flight together, dispatched in schedule order
        at = self.clock()
        signed = sign_delivery(self.provider, event, self.credentials, now=self.wall(), url=self.url)
        return at, signed, self.transport.send(signed, self.url, timeout=self.options.timeout)

    def play(self, instance: Instance, schedule: Schedule) -> list[Sent]:
        """Send a schedule: groups one after another, the sends of a group in flight together."""
        began = self.clock()
        out: list[Sent] = []
        for number, group in enumerate(schedule.groups):
            if len(group) == 1:
                answers = [self._send(instance.events[group[0].step], 0.0)]
            else:
                futures = [
                    self._pool.submit(self._send, instance.events[send.step], k * self.options.stagger)
                    for k, send in enumerate(group)
                ]
                answers = [f.result() for f in futures]
            for send, (at, delivery, reply) in zip(group, answers, strict=True):
                out.append(
                    Sent(
                        len(out) + 1,
                        at - began,
                        send.step,
                        instance.label(send.step),
                        send.copy,
                        number,
                        len(group),
                        delivery,
                        reply,
                    )
                )
        return out

    def settle(
        self, object_id: str, want: Mapping[str, Any] | None, pointers: Mapping[str, str], timeout: float
    ) -> tuple[Any, float]:
        """The projected state once it equals ``want``, or as it stands when ``timeout`` runs out."""
        began = self.clock()
        deadline = began + timeout
        while True:
            got = project(self.probe.view(object_id), pointers)
            if _matches(got, want) or self.clock() >= deadline:
                return got, self.clock() - began
            self.sleep(POLL)

    def trial(
        self,
        lifecycle: Lifecycle,
        schedule: Schedule,
        expected: Mapping[str, Any] | None,
        settle: float | None = None,
    ) -> Trial:
        """Play one schedule to a fresh object and judge it: every reply 2xx, the settled state as expected."""
        pointers = field_pointers(lifecycle, self.state_fields)
        instance = self.instance(lifecycle)
        sent = self.play(instance, schedule)
        refused = next((s for s in sent if not 200 <= s.reply.status < 300), None)
        timeout = self.options.settle_timeout if settle is None else min(settle, self.options.settle_timeout)
        state, waited = self.settle(instance.object_id, expected, pointers, timeout)
        trial = Trial(instance, schedule, sent, state, expected, settled_after=waited)
        if refused is not None:
            kind = "a 5xx" if refused.reply.status >= 500 else "no 2xx"
            trial.reason = f"delivery {refused.number} ({refused.label}, copy {refused.copy}) got {kind}: " + (
                f"HTTP {refused.reply.status}" if refused.reply.status else refused.reply.describe()
            )
        elif not _matches(state, expected):
            trial.reason = f"{len(sent)} deliveries left {_show(state)}, not {_show(expected)}"
        return trial

    # -- one lifecycle ----------------------------------------------------------------------------------------
    def run(self, lifecycle: Lifecycle) -> LifecycleResult:
        """The reference run, then up to ``max_examples`` drawn schedules; the smallest failure is kept."""
        started = self.clock()
        reference = self.trial(lifecycle, in_order(lifecycle), lifecycle.final)
        result = LifecycleResult(self.provider.id, lifecycle, reference, requests=len(reference.sent))
        if reference.reason is not None:
            reference.reason = "in order, " + reference.reason + " (the lifecycle's expected final state)"
            result.failure = reference
        else:
            self._explore(lifecycle, reference.state, result)
        result.duration = self.clock() - started
        return result

    def _explore(self, lifecycle: Lifecycle, reference: Mapping[str, Any] | None, result: LifecycleResult) -> None:
        from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
        from hypothesis import seed as seeded

        failures: dict[tuple[tuple[int, int, int], ...], Trial] = {}
        confirmed: list[Trial] = []  # failures seen with the full settle timeout
        calls = [0]

        def key(schedule: Schedule) -> tuple[tuple[int, int, int], ...]:
            return tuple((g, s.step, s.copy) for g, group in enumerate(schedule.groups) for s in group)

        @seeded(self.options.seed)
        @settings(
            max_examples=self.options.max_examples,
            database=None,
            deadline=None,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
        )
        @given(schedules(lifecycle, concurrency=self.options.concurrency))
        def converges(schedule: Schedule) -> None:
            trial = failures.get(key(schedule))
            if trial is None:
                if failures and calls[0] >= MAX_SHRINK_CALLS:
                    return  # the shrink budget is spent: the smallest failure so far stands
                calls[0] += 1 if failures else 0
                trial = self.trial(lifecycle, schedule, reference, SHRINK_SETTLE if confirmed else None)
                result.examples += 1
                result.requests += len(trial.sent)
                if trial.reason is None:
                    return
                failures[key(schedule)] = trial
                if not confirmed:
                    confirmed.append(trial)
            raise _Diverged(trial.reason)  # one raise for new and known failures: Hypothesis sees one cause

        test = converges
        for schedule in reversed(first_tries(lifecycle, concurrency=self.options.concurrency)):
            test = example(schedule)(test)  # innermost first: the reversed lifecycle is tried first
        try:
            test()
        except _Diverged:
            pass
        except Exception:
            if not failures:  # Hypothesis' own complaint (a flaky receiver) with nothing to show is re-raised
                raise
            result.notes.append("the receiver did not fail the same schedule twice (flaky); the smallest failure seen")
        if failures:
            smallest = min(failures.values(), key=lambda t: (len(t.schedule), len(t.schedule.groups)))
            if smallest not in confirmed:  # shrunk with a short settle: replay it with the full one
                again = self.trial(lifecycle, smallest.schedule, reference)
                result.requests += len(again.sent)
                smallest = again if again.reason is not None else confirmed[0]
            result.failure = smallest


def _show(state: Mapping[str, Any] | None) -> str:
    import json

    return "(no such object)" if state is None else json.dumps(dict(state), sort_keys=True)
