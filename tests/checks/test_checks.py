"""Each check passes against a correct fake receiver and fails against the defect it exists to catch."""

from __future__ import annotations

import pytest

from harness.checks import CHECKS, bodies, ordered_ids
from harness.engine.runner import RunResult, run_check, run_checks
from tests.checks._fakes import FakeReceiver, FakeTransport

STABLE_IDS = [
    "accepts-valid",
    "accepts-pass-through",
    "verifies-raw-body",
    "accepts-rotated-secret",
    "rejects-missing-auth",
    "rejects-bad-auth",
    "rejects-tampered-body",
    "rejects-stale-timestamp",
    "rejects-malformed",
    "handles-signed-malformed",
    "rejects-schema-violations",
    "accepts-unknown-fields",
    "redelivery-accepted",
    "single-effect",
    "handshake",
    "reply-format",
    "converges",
    "no-server-error",  # judges every provider-sends request of the run: after the others
    "responds-in-time",
]


def _statuses(result: RunResult) -> dict[str, str]:
    return {o.check: o.status for o in result.outcomes}


def _failed(fake: FakeReceiver) -> set[str]:
    result = run_checks(fake.config(probe=fake))
    return {o.check for o in result.outcomes if o.status == "failed"}


def test_the_stable_ids_are_registered_in_order() -> None:
    assert ordered_ids() == STABLE_IDS
    assert all(CHECKS.get(name).title for name in STABLE_IDS)


def test_a_correct_github_receiver_passes_and_the_rest_is_skipped_with_a_reason() -> None:
    fake = FakeReceiver("github")
    result = run_checks(fake.config(probe=fake))
    statuses = _statuses(result)
    skipped = {name for name, status in statuses.items() if status == "skipped"}
    assert skipped == {"accepts-rotated-secret", "rejects-stale-timestamp", "handshake", "reply-format", "converges"}
    assert set(statuses.values()) == {"passed", "skipped"} and result.exit_code == 0
    assert all(o.notes for o in result.outcomes if o.status == "skipped")
    assert all(o.requests > 0 for o in result.outcomes if o.status == "passed")
    assert set(fake.stored.values()) == {1}  # every key the harness sent was stored exactly once


def test_a_correct_stripe_receiver_passes_the_stale_timestamp_check() -> None:
    fake = FakeReceiver("stripe")
    outcome = run_check(fake.config(), "rejects-stale-timestamp")
    assert outcome.status == "passed"
    assert outcome.requests == 4  # the valid-delivery gate, the run's two forgery probes, then the stale replay


@pytest.mark.parametrize(
    ("provider", "defect", "expected"),
    [
        ("github", "skip-auth", {"rejects-missing-auth", "rejects-bad-auth", "rejects-tampered-body"}),
        ("github", "presence-only", {"rejects-bad-auth", "rejects-tampered-body"}),
        ("stripe", "ignore-timestamp", {"rejects-stale-timestamp"}),
        ("github", "crash-on-malformed", set()),  # signed garbage only: handles-signed-malformed warns
        ("github", "no-validation", set()),  # rejects-schema-violations warns: see the test below
        ("stripe", "first-signature-only", {"accepts-rotated-secret"}),
        ("github", "strict-events", set()),  # a refused unknown event type warns: providers send only subscribed ones
        ("github", "no-dedupe", {"single-effect"}),
        ("github", "duplicate-500", {"redelivery-accepted", "no-server-error"}),  # 500s to the provider's retries
        ("stripe", "invoice.paid", {"accepts-valid", "no-server-error"}),  # a 500 to a valid delivery, seen run-wide
    ],
)
def test_each_defect_fails_exactly_its_checks(provider: str, defect: str, expected: set[str]) -> None:
    fake = FakeReceiver(provider, defect)
    result = run_checks(fake.config(probe=fake))
    assert {o.check for o in result.outcomes if o.status == "failed"} == expected


def test_a_failure_found_while_fuzzing_survives_an_exhausted_shrink_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "_SHRINK_BUDGET", 1)  # Hypothesis' replay of the failure is then cut short
    outcome = run_check(FakeReceiver("github", "push", "issues.opened").config(max_examples=20), "no-server-error")
    assert outcome.status == "failed" and len(outcome.violations) == 1
    assert outcome.requests <= 1 + 2 + 20 + 1  # the gate, the explicit cases, the examples, one replay


def test_a_slow_receiver_fails_responds_in_time_only() -> None:
    fake = FakeReceiver("github", elapsed=10.5)  # GitHub's timeout is 10 s
    assert _failed(fake) == {"responds-in-time"}
    outcome = run_check(fake.config(timeout=30), "responds-in-time")  # --timeout overrides the provider's
    assert outcome.status == "passed" and "limit 30 s" in outcome.notes[0]


def test_another_4xx_for_bad_auth_passes_with_a_note() -> None:
    fake = FakeReceiver("github", auth_status=400)
    outcome = run_check(fake.config(), "rejects-bad-auth")
    assert outcome.status == "passed"
    assert outcome.notes and "HTTP 400; 401 or 403 is the usual answer" in outcome.notes[0]


@pytest.mark.parametrize("status", [500, 302, 200])
def test_bad_auth_answered_with_a_non_4xx_fails(status: int) -> None:
    outcome = run_check(FakeReceiver("github", auth_status=status).config(), "rejects-missing-auth")
    assert outcome.status == "failed"
    (violation,) = outcome.violations
    assert violation.received.startswith(f"HTTP {status}") and "4xx" in violation.expected


def test_an_unhandled_event_type_is_named_in_the_finding() -> None:
    outcome = run_check(FakeReceiver("stripe", "invoice.paid").config(), "accepts-valid")
    (violation,) = outcome.violations
    assert "'invoice.paid'" in violation.title and violation.received.startswith("HTTP 500")
    assert violation.repro.startswith("curl ") and '"invoice.paid"' in violation.repro and violation.payload


def test_single_effect_is_skipped_without_a_probe_and_names_the_options() -> None:
    outcome = run_check(FakeReceiver("github", "no-dedupe").config(), "single-effect")
    assert outcome.status == "skipped" and "--probe-url" in outcome.notes[0]


def test_single_effect_reports_the_counts_it_saw() -> None:
    fake = FakeReceiver("github", "no-dedupe")
    outcome = run_check(fake.config(probe=fake), "single-effect")
    received = sorted(v.received for v in outcome.violations)
    assert len(received) == 2  # sequential and concurrent
    assert received[0].endswith("counted 3") and received[1].endswith("counted 6")


def test_signed_garbage_that_crashes_the_receiver_is_a_warning_with_the_smallest_body() -> None:
    fake = FakeReceiver("github", "crash-on-malformed")
    outcome = run_check(fake.config(seed=1234, max_examples=10), "handles-signed-malformed")
    assert outcome.status == "warned" and outcome.input_class == "secret-holder-only"
    (violation,) = outcome.violations
    assert "1234" in violation.hint and violation.received.startswith("HTTP 500")
    assert len(violation.payload) <= 20  # the smallest crashing body, not a big generated one


def test_no_server_error_is_reproducible_for_a_seed() -> None:
    bodies: list[list[tuple[str, int]]] = []
    for _ in range(2):
        config = FakeReceiver("github").config(seed=99, max_examples=8)
        run_check(config, "no-server-error")
        assert isinstance(config.transport, FakeTransport)
        bodies.append([(d.label, len(d.body)) for d in config.transport.sent])  # content aside from clock fields
    assert bodies[0] == bodies[1] and len(bodies[0]) >= 8


def test_no_server_error_stays_within_its_request_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "_SHRINK_BUDGET", 5)  # the budget is the module's setting (60); a small one is quicker
    fake = FakeReceiver("github", "push", "issues.opened", "skip-auth")
    outcome = run_check(fake.config(max_examples=10), "no-server-error")
    assert outcome.status == "failed" and outcome.requests <= 1 + 10 + 5  # gate, examples, shrinking


def test_the_signed_garbage_fuzz_stays_within_its_request_budget() -> None:
    fake = FakeReceiver("github", "skip-auth", "no-validation")
    outcome = run_check(fake.config(max_examples=10), "handles-signed-malformed")
    assert outcome.status == "passed" and outcome.requests <= 1 + 6 + 2 + 10  # gate, fixed, explicit, examples


def test_no_server_error_stops_at_its_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "_FUZZ_SECONDS", 0.0)
    outcome = run_check(FakeReceiver("github").config(max_examples=50), "no-server-error")
    assert outcome.status == "passed" and outcome.requests == 1 and "stopped after 0 s" in outcome.notes[0]  # the gate
