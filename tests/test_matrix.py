"""The proof that every check can fail and that correct receivers are not flagged.

The strict, lenient and queue-first reference receivers get no failure for any provider; each deliberate bug is
caught (failed, warned or blocked) by exactly the checks whose registration names it, on every provider it applies to.
"""

from __future__ import annotations

import contextlib
import os
from unittest import mock

import pytest

from harness.catalog import load_catalog
from harness.checks import CHECKS, ordered_ids
from harness.core.models import Delivery, Reply
from harness.engine.runner import RunConfig, RunResult, run_checks
from harness.engine.session import Session
from harness.probes.counts import make_probe
from harness.probes.settle import DEFAULT_PERIOD
from harness.probes.state import make_state_probe
from harness.receiver import BUGS, ORDERING_BUGS, ReferenceReceiver
from harness.receiver import _app as receiver_app
from harness.transport import Transport

CATALOG = load_catalog()
PROVIDERS = [p.id for p in CATALOG]
# (timeout, the receiver's delay) for the slow bugs; the provider timeouts themselves are tested elsewhere. When every
# answer is slow the two can be tiny; one-in-ten needs room for the nine prompt answers on a busy machine.
# A late answer is late by the receiver's delay at least, so a delay just above the timeout is always caught: every
# delivery of these runs pays it, so it is kept short.
SLOW = {"slow": (0.01, 0.02), "slow-one-in-ten": (0.3, 0.35)}
HANDSHAKE_SLOW = ("300ms", 0.4)  # slow-handshake: the handshake's timeout (a profile override) and the receiver's delay
# racy-dedupe's await between "is it stored?" and the INSERT: the six concurrent copies arrive well within it, as
# racy-state's (lost-update) 0.05 s already shows. The gap is a race only when copies of one event overlap, which
# only the checks naming the bug send (single-effect's concurrent copies): they get it, every other check gets the
# same check-then-insert without the wait (a sequential sender sees no difference but 50 ms per new event).
RACE_GAP = 0.05
TIMEOUT = 3.0  # every other run (Slack's own timeout): OCI's unanswered handshake waits this long, not 10 s
SETTLE = 3.0  # the queue-first receiver stores QUEUE_LAG after its answer
# "Stored after the answer" is shown by any lag the settle-wait sees; the late-duplicate tests below use longer ones.
QUEUE_LAG = 0.2
ORDERING_SETTLE = 0.3  # the reference receiver's lifecycle state is written before it answers
CAUGHT = ("failed", "warned", "blocked")


class _Patient:
    """Waits for the slow bugs' answers as the transport does at real timeouts (twice the provider's): scaled down as in
    SLOW, twice the timeout would leave a busy machine no margin above the receiver's delay."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        return self.transport.send(delivery, url, timeout=max(timeout, 5.0))

    def close(self) -> None:
        getattr(self.transport, "close", lambda: None)()


class _VirtualClock:
    """Settle-waits on a virtual clock: a receiver that stores before it answers has final counts by then, so each
    wait lasts a whole settle period (one re-read confirms the counts) rather than one poll interval (ten re-reads)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, DEFAULT_PERIOD)


# Twilio signs the whole URL, its query string too: its receivers are judged on a webhook URL that has one.
QUERIES = {"twilio": "?tenant=matrix"}


def _run(
    provider: str, bug: str | None, mode: str = "strict", **options: object
) -> tuple[RunResult, ReferenceReceiver]:
    slow = bug in SLOW
    db_url, lag = options.pop("db_url", None), options.pop("queue_delay", QUEUE_LAG if mode == "queue-first" else None)
    delay = SLOW[bug][1] if bug in SLOW else None
    if bug == "slow-handshake":
        delay = HANDSHAKE_SLOW[1]
        options.setdefault("overrides", {provider: {"handshake": {"timeout": HANDSHAKE_SLOW[0]}}})
    gap = mock.patch.object(receiver_app, "RACE_GAP", RACE_GAP) if bug == "racy-dedupe" else contextlib.nullcontext()
    with gap, ReferenceReceiver(provider, bug=bug, mode=mode, delay=delay, db_url=db_url, queue_delay=lag) as rx:  # type: ignore[arg-type]
        ordering = bug in ORDERING_BUGS
        # converges runs where lifecycles are judged: the strict receiver, and the ordering bugs it must catch
        state = make_state_probe(rx.state_url) if ordering or (bug is None and mode == "strict") else None
        config = RunConfig(
            provider=provider,
            url=rx.url + QUERIES.get(provider, ""),
            credentials=rx.credentials,
            probe=make_probe(rx.probe_url),
            seed=1234,
            max_examples=4,  # enough to catch every bug; each fuzzed example costs every one of ~400 cases
            timeout=SLOW[bug][0] if bug in SLOW else TIMEOUT,
            settle_timeout=ORDERING_SETTLE if ordering else SETTLE,
            state_probe=state,
            **options,  # type: ignore[arg-type]
        )
        with Session(config) as session:
            if slow:
                session.context().transport = _Patient(session.context().transport)
            if mode != "queue-first":  # only the queue-first receiver stores after its answer: real time for it
                ctx, virtual = session.context(), _VirtualClock()
                ctx.clock, ctx.sleep = virtual.clock, virtual.sleep
            on_check = None
            if bug == "racy-dedupe":
                racing = {c for c in ordered_ids() if bug in CHECKS.get(c).bugs}

                def on_check(check_id: str) -> None:
                    receiver_app.RACE_GAP = RACE_GAP if check_id in racing else 0.0

            result = run_checks(config, session=session, on_check=on_check)
    return result, rx


def _with(result: RunResult, *statuses: str) -> set[str]:
    return {o.check for o in result.outcomes if o.status in statuses}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reference_receiver_passes_every_check(provider: str) -> None:
    result, _ = _run(provider, None)
    assert _with(result, *CAUGHT) == set() and result.exit_code == 0
    assert {"accepts-valid", "rejects-missing-auth", "rejects-bad-auth", "single-effect"} <= _with(result, "passed")
    assert "rejects-schema-violations" in _with(result, "passed")  # the strict receiver validates every event
    assert "verifies-raw-body" in _with(result, "passed", "skipped")


@pytest.mark.parametrize("mode", ["lenient", "queue-first"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_lenient_and_queue_first_receivers_get_no_failure(provider: str, mode: str) -> None:
    result, _ = _run(provider, None, mode)
    assert _with(result, "failed", "blocked") == set() and result.exit_code == 0
    assert _with(result, "warned") <= {"rejects-schema-violations"}
    if mode == "queue-first":
        assert "single-effect" in _with(result, "passed") and result.slowest_settle >= QUEUE_LAG / 2
        assert _with(result, "warned") == set()


def test_strict_turns_the_lenient_receivers_warning_into_a_failure() -> None:
    result, _ = _run("stripe", None, "lenient", checks=["rejects-schema-violations"])
    assert _with(result, "warned") == {"rejects-schema-violations"} and result.exit_code == 0
    result, _ = _run("stripe", None, "lenient", checks=["rejects-schema-violations"], strict=True)
    assert _with(result, "failed") == {"rejects-schema-violations"} and result.exit_code == 1


@pytest.mark.parametrize("lag", [0.1, 2.0])
def test_a_late_duplicate_on_a_queue_first_receiver_is_still_caught(lag: float) -> None:
    result, _ = _run("github", "stores-duplicates", "queue-first", checks=["single-effect"], queue_delay=lag)
    assert _with(result, "failed") == {"single-effect"}
    (outcome,) = result.outcomes
    assert "stored 3x" in outcome.violations[0].title


def test_a_correct_receiver_that_stores_2s_late_passes_single_effect() -> None:
    result, _ = _run("sendgrid", None, "queue-first", checks=["single-effect"], queue_delay=2.0)
    assert _with(result, "passed") == {"single-effect"} and result.slowest_settle >= 1.9


CASES = [
    (provider, name) for provider in PROVIDERS for name, bug in BUGS.items() if bug.applies_to(CATALOG.get(provider))
]


NAMED_IN_HINT = {  # the new bugs: the finding's hint names the defect
    "reserialised-signature": ("verifies-raw-body", "raw request bytes, not a re-serialised body"),
    "first-signature-only": ("accepts-rotated-secret", "compare every signature in the header"),
    "first-event-only": ("single-effect", "not just body[0]"),
    "parse-before-verify": ("rejects-malformed", "verify the signature (and parse headers defensively) before"),
    "accept-all-forgeries": ("rejects-missing-auth", "on every request, before doing anything else"),
    "slow-one-in-ten": ("responds-in-time", "acknowledge first (2xx)"),
    "fetches-any-cert-url": ("rejects-bad-auth", "fetch SigningCertURL only after checking it is https"),
    "confirms-unverified-subscription": ("handshake", "verify the message's signature first"),
    "token-audience-unchecked": ("rejects-bad-auth", "check the token's aud claim equals your push endpoint"),
    "token-not-verified": ("rejects-bad-auth", "never honour alg none"),
    "token-replay-accepted": ("rejects-bad-auth", "refuse a token seen before"),
    "refuses-with-403": ("handshake", "answer 401 when the signature does not verify"),
}


@pytest.mark.parametrize(("provider", "bug"), CASES, ids=[f"{p}-{b}" for p, b in CASES])
def test_each_bug_fails_exactly_its_checks(provider: str, bug: str) -> None:
    result, rx = _run(provider, bug)
    expected = BUGS[bug].expected_failures(CATALOG.get(provider), rx.credentials)
    assert expected, "a bug that no check catches is a defect in the suite"
    assert _with(result, *CAUGHT) == set(expected)
    assert result.exit_code == (0 if _with(result, "failed", "blocked") == set() else 1)
    if bug in NAMED_IN_HINT:
        check_id, words = NAMED_IN_HINT[bug]
        outcome = next(o for o in result.outcomes if o.check == check_id)
        assert any(words in v.hint for v in outcome.violations), [v.hint for v in outcome.violations]


@pytest.mark.parametrize("provider", ["github", "stripe", "sendgrid"])
def test_a_receiver_that_accepts_every_forgery_gets_one_finding(provider: str) -> None:
    result, _ = _run(provider, "accept-all-forgeries")
    findings = [v for o in result.outcomes for v in o.violations]
    assert len(findings) == 1 and "the signature is not checked" in findings[0].title
    assert all(
        o.same_cause_as == findings[0].check for o in result.outcomes if o.status == "failed" and not o.violations
    )


def test_one_slow_request_in_ten_is_caught_wherever_it_was_sent() -> None:
    result, _ = _run("github", "slow-one-in-ten")
    (timing,) = [o for o in result.outcomes if o.check == "responds-in-time"]
    (violation,) = timing.violations
    late, judged = (int(n) for n in violation.title.split(" requests")[0].split(" of "))
    assert 1 <= late < judged and f"{SLOW['slow-one-in-ten'][0]:g} s timeout (slowest " in violation.title


def test_every_registered_check_has_a_dedicated_bug_that_fails_it() -> None:
    """No check is a check that cannot fail: each is caught by a bug of its own, not by one that breaks everything."""
    dedicated: dict[str, set[str]] = {name: set() for name in ordered_ids()}
    for provider, bug in CASES:
        if BUGS[bug].generic:
            continue
        for check_id in BUGS[bug].expected_failures(CATALOG.get(provider)):
            dedicated[check_id].add(bug)
    assert {name for name, bugs in dedicated.items() if not bugs} == set()
    for name in ordered_ids():
        assert set(CHECKS.get(name).bugs) == dedicated[name], name  # the registration names exactly its proof


@pytest.mark.postgres
def test_postgres_backed_receiver_passes_and_catches_duplicates() -> None:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    result, _ = _run("sendgrid", None, db_url=url)
    assert not _with(result, *CAUGHT) and "single-effect" in _with(result, "passed")
    result, _ = _run("sendgrid", "stores-duplicates", db_url=url)
    assert _with(result, *CAUGHT) == {"single-effect"}


def test_a_receiver_that_verifies_only_githubs_legacy_sha1_signature_passes() -> None:
    """GitHub sends X-Hub-Signature (SHA-1) with every delivery, so a SHA-1-only verifier is correct; every forgery
    forges the SHA-1 header too, so it still refuses them all."""
    result, _ = _run("github", None, "legacy-signature")
    assert _with(result, *CAUGHT) == set() and result.exit_code == 0
    assert {"accepts-valid", "rejects-bad-auth", "rejects-tampered-body"} <= _with(result, "passed")


def test_without_the_sha1_header_a_sha1_only_receiver_refuses_everything() -> None:
    """What the harness did before it sent GitHub's legacy header: every valid delivery refused, the run blocked."""
    no_legacy = {"github": {"auth": {"hmac": {"github": {"also": []}}}}}
    result, _ = _run("github", None, "legacy-signature", overrides=no_legacy, checks=["accepts-valid", "single-effect"])
    assert result.exit_code == 1 and _with(result, "failed", "blocked") == {"accepts-valid", "single-effect"}


def test_a_receiver_that_404s_unsubscribed_types_warns_until_the_subscription_is_given() -> None:
    """Slack, GitHub, Stripe deliver only subscribed event types: a 404 to the others is a warning naming them and
    the option, not a failure; given with events (--event), every check draws from them and all pass."""
    result, _ = _run("github", None, "subscribed-only")
    assert _with(result, "failed", "blocked") == set() and result.exit_code == 0
    assert _with(result, "warned") == {"accepts-valid", "accepts-unknown-fields"}
    outcome = next(o for o in result.outcomes if o.check == "accepts-valid")
    (finding,) = outcome.violations
    assert "push (HTTP 404)" in finding.title and "--event" in finding.hint and finding.advisory
    # actions of the families a team subscribes to (the receiver 404s one real type: the last by name, not these)
    result, _ = _run("github", None, "subscribed-only", events=["issues.opened", "ping", "pull_request.opened"])
    assert _with(result, "failed", "blocked") == set() and result.exit_code == 0
    assert _with(result, "warned") == {"accepts-unknown-fields"}  # a new, unknown type: still a warning
    result, _ = _run("github", None, "subscribed-only", events=["push", "ping"], checks=["accepts-valid"])
    assert _with(result, "failed") == {"accepts-valid"}  # a subscribed type refused is a failure


def test_strict_turns_the_unsubscribed_warning_into_a_failure() -> None:
    result, _ = _run("github", None, "subscribed-only", checks=["accepts-valid"], strict=True)
    assert _with(result, "failed") == {"accepts-valid"}
