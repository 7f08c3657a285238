"""Verdicts: severities, the valid-delivery gate, --fail-fast, settle-wait and the new checks, against fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from harness.checks import CHECKS, CheckContext, ordered_ids, resolve_severities
from harness.checks.encoding import NON_ASCII_TEXT, survives_round_trip
from harness.cli import main
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.engine.runner import run_check, run_checks
from harness.errors import UsageError
from harness.probes.settle import settle_counts
from harness.report import CATEGORIES, render_failures, render_summary, to_json
from tests.checks._fakes import CATALOG, FakeReceiver, FakeTransport


def test_defaults_come_from_the_registration_and_overrides_win() -> None:
    defaults = resolve_severities()
    assert defaults["rejects-schema-violations"] == "warn" and defaults["accepts-valid"] == "error"
    assert {name: CHECKS.get(name).severity for name in ordered_ids()} == defaults
    changed = resolve_severities({"accepts-valid": "warn", "single-effect": "off"})
    assert changed["accepts-valid"] == "warn" and changed["single-effect"] == "off"
    strict = resolve_severities({"accepts-valid": "warn"}, strict=True)
    assert set(strict.values()) == {"error"}
    assert resolve_severities({"single-effect": "off"}, strict=True)["single-effect"] == "off"
    assert CATEGORIES == {name: CHECKS.get(name).category for name in ordered_ids()}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"no-such-check": "warn"}, "Unknown check 'no-such-check'"), ({"accepts-valid": "fatal"}, "Invalid severity")],
)
def test_a_bad_severity_setting_is_one_usage_error_listing_the_known(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        resolve_severities(overrides)
    assert "\n" not in str(info.value)
    if "Unknown" in message:
        assert "accepts-valid" in str(info.value)


def test_a_warned_check_reports_but_does_not_fail_the_run() -> None:
    fake = FakeReceiver("github", "no-validation")
    result = run_checks(fake.config(probe=fake, checks=["rejects-schema-violations", "accepts-valid"]))
    outcome = result.outcomes[1]
    assert outcome.status == "warned" and outcome.severity == "warn" and outcome.violations
    assert result.exit_code == 0 and "1 warned" in render_summary(result)
    assert "(warning)" in render_failures(result.outcomes)
    report = to_json(result)
    assert report["summary"]["warned"] == 1 and report["checks"][1]["severity"] == "warn"
    strict = run_checks(fake.config(probe=fake, checks=["rejects-schema-violations"], strict=True))
    assert strict.outcomes[0].status == "failed" and strict.exit_code == 1


def test_severity_off_skips_the_check_with_the_reason() -> None:
    fake = FakeReceiver("github", "skip-auth")
    outcome = run_check(fake.config(severities={"rejects-missing-auth": "off"}), "rejects-missing-auth")
    assert outcome.status == "skipped" and outcome.notes == ["severity off"] and outcome.requests == 0


def _answering(status: int) -> FakeTransport:
    return FakeTransport(lambda delivery: Reply(status, {}, b"nope", elapsed=0.01))


@pytest.mark.parametrize(("status", "cause"), [(404, "HTTP 404: wrong URL?"), (401, "HTTP 401: wrong secret or key?")])
def test_no_refusal_check_passes_when_a_valid_delivery_does_not_get_through(status: int, cause: str) -> None:
    fake = FakeReceiver("github")
    result = run_checks(fake.config(transport=_answering(status)))
    statuses = {o.check: o.status for o in result.outcomes}
    gated = {name for name in ordered_ids() if CHECKS.get(name).gated}
    assert {statuses[name] for name in gated} <= {"blocked", "skipped"}
    assert "passed" not in {statuses[n] for n in ("rejects-missing-auth", "rejects-bad-auth", "rejects-malformed")}
    assert all(cause in o.notes[0] for o in result.outcomes if o.status == "blocked")
    assert result.exit_code == 1 and cause in (result.blocked_cause or "")
    text = render_failures(result.outcomes)
    assert text.startswith("__ blocked __") and cause in text.splitlines()[2]
    accepts = next(o for o in result.outcomes if o.check == "accepts-valid")
    assert cause in accepts.violations[0].hint


def test_a_blocked_check_fails_even_when_run_alone() -> None:
    outcome = run_check(FakeReceiver("github").config(transport=_answering(404)), "rejects-missing-auth")
    assert outcome.status == "blocked" and outcome.failed and outcome.requests == 1


def test_fail_fast_stops_at_the_first_failed_check() -> None:
    fake = FakeReceiver("github", "skip-auth")
    result = run_checks(fake.config(probe=fake, fail_fast=True))
    assert [o.status for o in result.outcomes][-1] == "failed"
    assert [o.check for o in result.outcomes][-1] == "rejects-missing-auth"
    assert result.stopped_early and "--fail-fast" in render_summary(result)
    assert len(result.outcomes) < len(ordered_ids())


class _LateProbe:
    """Counts that change at given virtual times, read through an injected clock."""

    def __init__(self, timeline: dict[str, list[tuple[float, int]]]) -> None:
        self.timeline = timeline
        self.now = 0.0
        self.reads = 0

    def count(self, event_id: str) -> int:
        self.reads += 1
        return max((n for at, n in self.timeline[event_id] if at <= self.now), default=0)

    def describe(self) -> str:
        return "virtual"

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_settle_waits_for_a_late_store_and_catches_a_late_duplicate() -> None:
    probe = _LateProbe({"a": [(0.3, 1), (1.1, 2)], "b": [(0.2, 1)]})
    settled = settle_counts(probe, ["a", "b"], timeout=5, period=1.0, clock=lambda: probe.now, sleep=probe.sleep)
    assert settled.counts == {"a": 2, "b": 1} and not settled.timed_out
    assert settled.settle_time == pytest.approx(1.2, abs=0.11)
    assert probe.now < 2.5  # stopped once stable for the period, not at the timeout


def test_settle_waits_as_long_as_the_first_store_took_for_a_lagging_duplicate() -> None:
    probe = _LateProbe({"a": [(1.9, 1), (3.5, 2)]})  # a worker 1.9 s behind, its duplicate 1.6 s later
    settled = settle_counts(probe, ["a"], timeout=8, period=1.0, clock=lambda: probe.now, sleep=probe.sleep)
    assert settled.counts == {"a": 2}


def test_settle_gives_up_at_the_timeout_when_nothing_is_stored() -> None:
    probe = _LateProbe({"a": []})
    settled = settle_counts(probe, ["a"], timeout=2, period=1.0, clock=lambda: probe.now, sleep=probe.sleep)
    assert settled.counts == {"a": 0} and settled.timed_out and probe.now == pytest.approx(2.0, abs=0.01)


def test_settle_returns_at_once_for_a_synchronous_receiver_after_one_period() -> None:
    probe = _LateProbe({"a": [(0.0, 1)]})
    settled = settle_counts(probe, ["a"], timeout=5, period=0.5, clock=lambda: probe.now, sleep=probe.sleep)
    assert settled.counts == {"a": 1} and settled.settle_time == 0.0 and probe.now == pytest.approx(0.5, abs=0.11)


def test_single_effect_on_a_batch_provider_sends_several_events_per_delivery() -> None:
    seen: list[Delivery] = []

    def receiver(delivery: Delivery) -> Reply:
        seen.append(delivery)
        return Reply(200, {}, b"ok", elapsed=0.01)

    class Probe:
        def count(self, key: str) -> int:
            return 1

        def describe(self) -> str:
            return "always one"

    provider = CATALOG.get("sendgrid")
    assert provider.body.shape == "batch"
    ctx = CheckContext(  # unsigned: the probe and the bodies are what this test is about
        provider=provider,
        catalog=CATALOG,
        url="http://127.0.0.1:9/hook",
        credentials=Credentials(),
        transport=FakeTransport(receiver),
        timeout=3.0,
        probe=Probe(),
        settle_timeout=0.05,
    )
    violations, _ = CHECKS.get("single-effect").run(ctx)
    assert not violations
    assert all(len(json.loads(d.body)) >= 2 for d in (x.delivery for x in ctx.exchanges))


def test_the_non_ascii_delivery_does_not_survive_a_json_round_trip() -> None:
    fake = FakeReceiver("github")
    transport = FakeTransport(fake)
    outcome = run_check(fake.config(transport=transport), "accepts-valid")
    assert outcome.status == "passed"
    hostile = [d for d in transport.sent if NON_ASCII_TEXT.encode() in d.body]
    assert hostile and not survives_round_trip(hostile[0].body)
    assert all(survives_round_trip(d.body) for d in transport.sent if d not in hostile)


def test_verifies_raw_body_names_a_re_serialising_verifier() -> None:
    fake = FakeReceiver("github")

    def reserialising(delivery: Delivery) -> Reply:
        body = json.dumps(json.loads(delivery.body), separators=(",", ":")).encode()
        return fake(delivery.replace(body=body)) if body != delivery.body else fake(delivery)

    outcome = run_check(fake.config(transport=FakeTransport(reserialising)), "verifies-raw-body")
    (violation,) = outcome.violations
    assert outcome.status == "failed" and "raw request bytes" in violation.hint
    assert "ASCII twin was accepted" in violation.title


@pytest.fixture
def argv() -> Iterator[list[str]]:
    yield ["check", "github", "http://127.0.0.1:9/hook", "--secret", "s3cret-value-x"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--warn", "no-such-check"], "Unknown check 'no-such-check'"),
        (["--error", "nope"], "Unknown check 'nope'"),
        (["--warn", "accepts-valid", "--error", "accepts-valid"], "both --warn and --error"),
    ],
)
def test_bad_severity_flags_exit_2_with_one_line(
    argv: list[str], extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["0", "-1s", "nan", "soon"])
def test_a_settle_timeout_that_is_not_a_positive_duration_exits_2(
    argv: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main([*argv, "--settle-timeout", value])  # the settings table's duration parser: one line, exit 2
    except SystemExit as exc:  # "-1s" looks like an option to argparse, which exits itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "settle" in err and "Traceback" not in err


def test_a_body_that_became_valid_is_never_reported_as_invalid() -> None:
    from harness.checks.bodies import still_invalid

    provider = CATALOG.get("stripe")
    ctx = CheckContext(
        provider=provider,
        catalog=CATALOG,
        url="http://127.0.0.1:9/",
        credentials=Credentials(),
        transport=None,  # type: ignore[arg-type]
        timeout=1.0,
    )
    valid = ctx.unsigned()
    assert not still_invalid(ctx, valid)
    payload = json.loads(valid.body)
    del payload["type"]
    assert still_invalid(ctx, valid.replace(body=provider.encode(payload)))
    assert still_invalid(ctx, valid.replace(body=b"{oops"))


@pytest.mark.parametrize(
    ("where", "cause"), [("url", "HTTP 404: wrong URL?"), ("secret", "HTTP 401: wrong secret or key?")]
)
def test_a_wrong_url_or_secret_exits_1_with_the_cause_as_the_first_finding(
    where: str, cause: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.receiver import ReferenceReceiver

    with ReferenceReceiver("github") as rx:
        url = rx.url + "-typo" if where == "url" else rx.url
        secret = "a-wrong-secret-123" if where == "secret" else (rx.credentials.secret or "")
        code = main(["check", "github", url, "--secret", secret, "--seed", "3", "--max-examples", "3"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert not [line for line in lines if line.startswith("rejects-") and "PASSED" in line]
    failures = out.split(" FAILURES ", 1)[1]
    assert failures.lstrip("= \n").startswith("__ blocked __") and cause in failures.split("__ accepts-valid __")[0]
