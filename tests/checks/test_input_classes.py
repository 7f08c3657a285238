"""The input-class model: who could have sent a request decides the verdict; one cause gives one finding."""

from __future__ import annotations

import dataclasses
import json
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from harness.checks import ANYONE, CHECKS, INPUT_CLASSES, PROVIDER_SENDS, SECRET_HOLDER, CheckContext, check
from harness.checks._context import blocked_cause
from harness.checks.auth import CRASH_HINT
from harness.checks.forgeries import ALL_ACCEPTED
from harness.core.models import Delivery, Reply
from harness.engine.runner import run_check, run_checks
from harness.report import render_failures, render_outcome, render_summary, to_json, to_junit
from harness.violations import ContractViolation
from tests.checks._fakes import FakeReceiver, FakeTransport


def _through(fake: FakeReceiver, handler: Callable[[Delivery, FakeReceiver], Reply]) -> FakeTransport:
    """A transport that lets ``handler`` answer, with the fake behind it."""
    return FakeTransport(lambda delivery: handler(delivery, fake))


def test_every_check_declares_a_class_and_the_class_gives_its_default_severity() -> None:
    for name in CHECKS.names():
        registered = CHECKS.get(name)
        assert registered.input_class in INPUT_CLASSES, name
        assert registered.severity == INPUT_CLASSES[registered.input_class].severity, name
    assert INPUT_CLASSES[SECRET_HOLDER].severity == "warn" and INPUT_CLASSES[ANYONE].severity == "error"
    assert CHECKS.get("rejects-malformed").input_class == ANYONE
    assert CHECKS.get("handles-signed-malformed").input_class == SECRET_HOLDER
    with pytest.raises(ValueError, match="input class"):
        check("x-check", "X", 1, category="other", bugs=(), sends="someone")


def test_each_request_is_tagged_with_who_could_have_sent_it() -> None:
    fake = FakeReceiver("github")
    config = fake.config(checks=["rejects-missing-auth", "rejects-malformed", "handles-signed-malformed"])
    with_context: list[CheckContext] = []
    from harness.engine.session import Session

    with Session(config) as session:
        ctx = session.context()
        with_context.append(ctx)
        run_checks(config, session=session)
    exchanges = with_context[0].exchanges
    senders = {e.sender for e in exchanges}
    assert senders == {PROVIDER_SENDS, ANYONE, SECRET_HOLDER}
    assert all(e.sender == PROVIDER_SENDS for e in exchanges if "(gate)" in e.label)
    assert all(e.sender == ANYONE for e in exchanges if e.label.startswith("unsigned:"))
    assert all(e.sender == SECRET_HOLDER for e in exchanges if e.label.startswith("signed:"))


def test_a_receiver_that_accepts_every_forgery_gets_one_finding() -> None:
    fake = FakeReceiver("github", "skip-auth")
    result = run_checks(fake.config(probe=fake))
    forgery_checks = [o for o in result.outcomes if CHECKS.get(o.check).forgery and o.status != "skipped"]
    assert [o.status for o in forgery_checks] == ["failed"] * len(forgery_checks) and len(forgery_checks) == 3
    findings = [v for o in forgery_checks for v in o.violations]
    assert len(findings) == 1 and "the signature is not checked" in findings[0].title
    assert "no credentials" in findings[0].received and "wrong key" in findings[0].received
    owner = forgery_checks[0].check
    assert all(o.same_cause_as == owner and ALL_ACCEPTED in o.notes[0] for o in forgery_checks[1:])
    assert f"(same cause as {owner})" in render_outcome(forgery_checks[1])
    text = render_failures(result.outcomes)
    assert text.count("the signature is not checked") == 1 + len(forgery_checks[1:])  # the finding, then one line each
    assert "Seed:" not in text.split("__ rejects-missing-auth __")[1].split("note [rejects-bad-auth]")[1]


def test_a_receiver_that_refuses_one_forgery_gets_a_finding_per_check() -> None:
    fake = FakeReceiver("github", "presence-only")  # no credentials: 401; wrong ones: accepted
    result = run_checks(fake.config(probe=fake))
    failed = {o.check: o for o in result.outcomes if o.status == "failed"}
    assert set(failed) == {"rejects-bad-auth", "rejects-tampered-body"}
    assert all(o.violations and o.same_cause_as is None for o in failed.values())


def _parse_first(delivery: Delivery, fake: FakeReceiver) -> Reply:
    """Parses the body before verifying: anything that is not JSON is a 500."""
    try:
        json.loads(delivery.body)
    except ValueError:
        return Reply(500, {}, b"Internal Server Error", elapsed=0.01)
    return fake(delivery)


def test_a_crash_on_unsigned_garbage_is_an_error_with_the_verify_first_hint() -> None:
    fake = FakeReceiver("github")
    result = run_checks(fake.config(transport=_through(fake, _parse_first), checks=["rejects-malformed"]))
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and outcome.input_class == ANYONE and result.exit_code == 1
    assert all(v.hint == CRASH_HINT and v.input_class == ANYONE for v in outcome.violations)
    assert "caused a server error" in outcome.violations[0].title


def test_signed_garbage_answered_with_a_2xx_is_not_a_finding() -> None:
    fake = FakeReceiver("github", "skip-auth")
    accept_all = _through(fake, lambda d, f: Reply(204, {}, b"", elapsed=0.01))
    outcome = run_check(fake.config(transport=accept_all), "handles-signed-malformed")
    assert outcome.status == "passed" and "acknowledged with a 2xx" in outcome.notes[0]


@pytest.mark.parametrize(
    ("status", "body", "guess"),
    [
        (400, b'{"error": "Invalid signature"}', "wrong secret or key?"),
        (403, b"Forbidden", "wrong secret or key?"),
        (400, b'{"error": "HMAC verification failed"}', "wrong secret or key?"),
        (400, b'{"error": "bad event"}', "the receiver refuses correct deliveries"),
    ],
)
def test_a_valid_delivery_refused_as_unauthenticated_suggests_the_secret(status: int, body: bytes, guess: str) -> None:
    cause = blocked_cause(Reply(status, {}, body, elapsed=0.01))
    assert cause.endswith(guess), cause


def test_every_check_that_needs_acceptance_is_blocked_with_the_cause_once() -> None:
    fake = FakeReceiver("github")
    refuse = FakeTransport(lambda delivery: Reply(400, {}, b'{"message": "signature mismatch"}', elapsed=0.01))
    result = run_checks(fake.config(probe=fake, transport=refuse))
    statuses = {o.check: o.status for o in result.outcomes}
    for name in ("accepts-unknown-fields", "redelivery-accepted", "single-effect", "no-server-error"):
        assert statuses[name] == "blocked", name
    text = render_failures(result.outcomes)
    assert text.startswith("__ blocked __") and text.count("wrong secret or key?") == 2  # the cause, accepts-valid


def test_single_effect_reads_the_replies_when_every_copy_was_refused() -> None:
    fake = FakeReceiver("github")
    answered = {"n": 0}

    def gate_then_refuse(delivery: Delivery, receiver: FakeReceiver) -> Reply:
        answered["n"] += 1
        return receiver(delivery) if answered["n"] == 1 else Reply(400, {}, b"no", elapsed=0.01)

    outcome = run_check(fake.config(probe=fake, transport=_through(fake, gate_then_refuse)), "single-effect")
    assert outcome.status == "failed"
    hints = [v.hint for v in outcome.violations]
    assert any("all 3 copies were refused with HTTP 400" in h for h in hints), hints
    assert any("all 6 copies were refused with HTTP 400" in h for h in hints), hints
    assert not any("acknowledged but nothing was stored" in h for h in hints)


def test_responds_in_time_judges_every_provider_sends_request_of_the_run() -> None:
    fake = FakeReceiver("stripe")
    seen = {"n": 0}

    def slow_second(delivery: Delivery, receiver: FakeReceiver) -> Reply:
        seen["n"] += 1
        reply = receiver(delivery)
        return dataclasses.replace(reply, elapsed=31.0) if seen["n"] == 3 else reply  # Stripe's limit is 30 s

    config = fake.config(transport=_through(fake, slow_second), checks=["accepts-valid", "responds-in-time"])
    result = run_checks(config)
    timing = result.outcomes[-1]
    assert timing.status == "failed" and timing.requests == 3  # its own three samples were fast
    (violation,) = timing.violations
    assert violation.title.startswith("1 of ") and "slowest 31.00 s: valid " in violation.title


def test_no_server_error_judges_the_providers_retries_sent_by_other_checks() -> None:
    fake = FakeReceiver("github", "duplicate-500")
    result = run_checks(fake.config(checks=["redelivery-accepted", "no-server-error"]))
    outcome = result.outcomes[-1]
    assert outcome.status == "failed"
    assert "retry 1" in outcome.violations[0].hint and "got a 5xx or no answer" in outcome.violations[0].title


def test_the_class_is_in_the_summary_the_json_and_the_junit_xml() -> None:
    fake = FakeReceiver("github", "no-validation")
    result = run_checks(
        fake.config(probe=fake, checks=["accepts-valid", "rejects-missing-auth", "rejects-schema-violations"])
    )
    summary = render_summary(result)
    assert "provider-sends: 1 passed" in summary and "secret-holder-only: 1 warned" in summary
    assert render_outcome(result.outcomes[0]).rstrip().endswith("provider-sends")
    report = to_json(result)
    assert [c["class"] for c in report["checks"]] == [PROVIDER_SENDS, ANYONE, SECRET_HOLDER]
    assert report["checks"][2]["violations"][0]["class"] == SECRET_HOLDER
    assert report["summary_by_class"][SECRET_HOLDER] == {"warned": 1}
    cases = {c.get("name"): c for c in ET.fromstring(to_junit(result)).iter("testcase")}
    warned = cases["test_contract[github-rejects-schema-violations]"]
    props = {p.get("name"): p.get("value") for p in warned.iter("property")}
    assert props["class"] == SECRET_HOLDER and props["status"] == "warned" and "schema-invalid" in props["warning"]
    out = warned.find("system-out")
    assert out is not None and (out.text or "").startswith("WARNING: __ rejects-schema-violations (warning) __")
    assert warned.find("failure") is None and warned.find("skipped") is None


def test_library_warnings_stay_out_of_the_table_and_show_once(monkeypatch: pytest.MonkeyPatch) -> None:
    original = CHECKS.get("accepts-valid")

    def noisy(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
        for _ in range(3):
            warnings.warn("a health check tripped", UserWarning, stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        return original.run(ctx)

    monkeypatch.setitem(CHECKS._items, "accepts-valid", dataclasses.replace(original, run=noisy))
    fake = FakeReceiver("github")
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        result = run_checks(fake.config(checks=["accepts-valid"]))
    assert not leaked  # nothing printed while the table is written
    (outcome,) = result.outcomes
    assert outcome.status == "passed" and "health check" not in render_outcome(outcome)
    text = render_failures(result.outcomes)
    assert text.count("UserWarning: a health check tripped") == 1 and "old API" not in text
    assert text.startswith("__ library warnings __")
    assert to_json(result)["library_warnings"] == ["UserWarning: a health check tripped"]
    suite = ET.fromstring(to_junit(result)).find("testsuite")
    assert suite is not None and "a health check tripped" in (suite.findtext("system-err") or "")


def test_the_run_wide_checks_run_after_every_other_check() -> None:
    """They judge every provider-sends request of the run, so a check registered after them would escape them."""
    from harness.checks import ordered_ids

    assert ordered_ids()[-2:] == ["no-server-error", "responds-in-time"]
