"""Lifecycles against the reference receiver: the correct mode converges, each ordering bug fails and shrinks small."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.catalog import load_catalog
from harness.receiver import ORDERING_BUGS, ReferenceReceiver
from harness.sequences import (
    Schedule,
    Send,
    SequenceOptions,
    SequenceRunner,
    build_instance,
    field_pointers,
    in_order,
    make_state_probe,
    project,
    render_failure,
    repro_script,
    schedules,
)
from harness.transport import RequestsTransport

CATALOG = load_catalog()
WITH_LIFECYCLES = [(p.id, name) for p in CATALOG for name in p.lifecycles]
REQUIRED = {"stripe", "github", "shopify", "sendgrid", "jira", "pagerduty", "paddle", "square"}
SETTLE = 0.15  # the reference receiver applies state before it answers: a failing schedule waits only this long


def _runner(rx: ReferenceReceiver, *, examples: int = 6, seed: int = 1, concurrency: int = 2) -> SequenceRunner:
    options = SequenceOptions(max_examples=examples, seed=seed, settle_timeout=SETTLE, concurrency=concurrency)
    probe = make_state_probe(rx.state_url)
    assert probe is not None
    return SequenceRunner(rx.provider, rx.url, rx.credentials, RequestsTransport(), probe, options)


def test_the_listed_providers_declare_lifecycles_with_sources() -> None:
    assert {pid for pid, _ in WITH_LIFECYCLES} >= REQUIRED
    assert {"subscription", "invoice"} <= set(CATALOG.get("stripe").lifecycles)
    for pid, name in WITH_LIFECYCLES:
        provider = CATALOG.get(pid)
        lifecycle = provider.lifecycle(name)
        assert lifecycle.guarantee in ("none", "ordered") and lifecycle.source.strip()
        assert any(key.startswith("lifecycles") for key in provider.assumptions), pid  # unconfirmed parts are listed


@pytest.mark.parametrize(("provider_id", "name"), WITH_LIFECYCLES)
def test_bodies_of_one_lifecycle_share_the_object_id_and_carry_rising_versions(provider_id: str, name: str) -> None:
    provider = CATALOG.get(provider_id)
    lifecycle = provider.lifecycle(name)
    instance = build_instance(provider, lifecycle, random.Random(5), 1_700_000_000.0)
    bodies = [d.payload[0] if provider.body.shape == "batch" else d.payload for d in instance.events]
    assert {lifecycle.object_id(body) for body in bodies} == {instance.object_id}
    versions = [lifecycle.version(body) for body in bodies]
    assert all(v is not None for v in versions) and versions == sorted(set(versions))  # type: ignore[type-var]
    assert [
        lifecycle.step_of(event.event_types[0], body) for event, body in zip(instance.events, bodies, strict=True)
    ] == list(range(len(lifecycle.steps)))
    for step, body in zip(lifecycle.steps, bodies, strict=True):
        if step.event in provider.events:
            assert provider.schema_errors(step.event, body) == []  # what a strict receiver validates


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_drawn_schedules_send_every_step_and_respect_the_concurrency_cap(data: st.DataObject) -> None:
    lifecycle = CATALOG.get("shopify").lifecycle("order")
    cap = data.draw(st.integers(1, 3))
    schedule = data.draw(schedules(lifecycle, concurrency=cap))
    firsts = Counter(s.step for s in schedule.sends if s.copy == 1)
    assert firsts == Counter(range(len(lifecycle.steps)))
    assert all(len(group) <= cap for group in schedule.groups)
    copies = Counter(s.step for s in schedule.sends)
    for send in schedule.sends:
        assert 1 <= send.copy <= copies[send.step]


def test_an_ordered_lifecycle_is_never_permuted() -> None:
    import dataclasses

    lifecycle = dataclasses.replace(CATALOG.get("stripe").lifecycle("subscription"), guarantee="ordered")

    @settings(max_examples=30, deadline=None)
    @given(schedules(lifecycle, concurrency=1))
    def check(schedule: Schedule) -> None:
        firsts = [s.step for s in schedule.sends if s.copy == 1]
        assert firsts == sorted(firsts)

    check()


@pytest.mark.parametrize("provider_id", sorted({pid for pid, _ in WITH_LIFECYCLES}))
def test_the_correct_receiver_converges_for_every_lifecycle(provider_id: str) -> None:
    with ReferenceReceiver(provider_id) as rx, _runner(rx) as runner:
        for lifecycle in rx.provider.lifecycles.values():
            result = runner.run(lifecycle)
            assert result.passed, result.failure and result.failure.reason
            assert result.examples >= 6  # the drawn schedules, after the ones always tried first
            assert project(runner.probe.view(result.reference.instance.object_id), field_pointers(lifecycle)) == (
                lifecycle.final
            )


@pytest.mark.parametrize(
    ("bug", "seed", "examples"),
    [
        ("last-arrival-wins", 1, 10),
        ("resurrects-deleted", 1, 10),
        ("dedupe-by-event-type", 1, 5),
        ("lost-update", 6, 8),
    ],
)
def test_each_ordering_bug_fails_and_shrinks_to_at_most_three_deliveries(bug: str, seed: int, examples: int) -> None:
    assert bug in ORDERING_BUGS
    with ReferenceReceiver("stripe", bug=bug) as rx, _runner(rx, examples=examples, seed=seed) as runner:
        result = runner.run(rx.provider.lifecycle("subscription"))
    assert not result.passed and result.failure is not None
    assert result.failure is not result.reference  # the in-order run still looks right: only the schedules expose it
    assert len(result.failure.sent) <= 3
    assert all(200 <= s.reply.status < 300 for s in result.failure.sent)  # every delivery acknowledged: a state bug
    assert result.failure.state != {"status": "canceled"}
    if bug == "lost-update":
        assert any(s.together > 1 for s in result.failure.sent)  # only deliveries in flight together lose an update


def test_a_lost_update_needs_two_deliveries_in_flight_together() -> None:
    lifecycle = CATALOG.get("stripe").lifecycle("subscription")
    overlapping = Schedule(((Send(0, 1),), (Send(2, 1), Send(1, 1))))
    with ReferenceReceiver("stripe", bug="lost-update") as rx, _runner(rx) as runner:
        assert runner.trial(lifecycle, in_order(lifecycle), lifecycle.final).reason is None
        trial = runner.trial(lifecycle, overlapping, lifecycle.final)
    assert trial.reason is not None and trial.state == {"status": "past_due"}


def test_the_failure_reads_as_a_numbered_timeline_with_a_redacted_script() -> None:
    with ReferenceReceiver("stripe", bug="last-arrival-wins") as rx, _runner(rx, examples=10) as runner:
        result = runner.run(rx.provider.lifecycle("subscription"))
        secret = rx.credentials.secret or ""
        from harness.credentials import Redactor

        text = render_failure(result, 1, runner.probe.describe())
        script = repro_script(result.failure, rx.url, Redactor([secret]))  # type: ignore[arg-type]
    lines = text.splitlines()
    assert "minimal failing schedule, 3 deliveries" in lines[0]
    assert lines[1].split() == ["#", "time", "event", "copy", "reply"]
    assert [line.split()[0] for line in lines[2:5]] == ["1", "2", "3"]
    labels = [step.label for step in CATALOG.get("stripe").lifecycle("subscription").steps]
    assert sorted(line.split()[2] for line in lines[2:5]) == sorted(labels)  # each step once, out of order
    assert all(line.split()[2] != labels[-1] for line in lines[4:5]) and all("HTTP 200" in x for x in lines[2:5])
    assert 'Expected state: {"status": "canceled"}' in text and "Seed: 1" in text
    assert script.count("curl ") == 3 and "Stripe-Signature: t=" in script and secret not in script


def test_state_fields_map_to_pointers_in_the_receivers_view() -> None:
    lifecycle = CATALOG.get("stripe").lifecycle("invoice")
    assert field_pointers(lifecycle) == {"status": "/status", "paid": "/paid"}
    pointers = field_pointers(lifecycle, ["status=/invoice/state", "other=/ignored"])
    assert pointers == {"status": "/invoice/state", "paid": "/paid"}
    assert project({"invoice": {"state": "paid"}, "paid": True}, pointers) == {"status": "paid", "paid": True}
    assert project(None, pointers) is None


@pytest.mark.parametrize("bad", ["status", "status=no-slash", "=/x"])
def test_a_malformed_state_field_is_a_usage_error(bad: str) -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="--state-field"):
        field_pointers(CATALOG.get("stripe").lifecycle("invoice"), [bad])


def test_the_sql_state_probe_reads_one_row_with_the_id_bound(tmp_path: object) -> None:
    import sqlalchemy

    url = f"sqlite:///{tmp_path}/state.db"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE subs (id TEXT, status TEXT)"))
        conn.execute(sqlalchemy.text("INSERT INTO subs VALUES ('sub_1', 'canceled')"))
    engine.dispose()
    probe = make_state_probe(state_db=url, state_sql="SELECT status FROM subs WHERE id = :object_id")
    assert probe is not None
    assert probe.view("sub_1") == {"status": "canceled"}
    assert probe.view("x' OR '1'='1") is None  # bound, never spliced


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"state_url": "http://127.0.0.1:1/state"}, "{object_id}"),
        ({"state_db": "sqlite://"}, "go together"),
        ({"state_db": "sqlite://", "state_sql": "SELECT 1"}, ":object_id"),
        ({"state_url": "http://h/{object_id}", "state_sql": "x"}, "not both"),
    ],
)
def test_state_probe_options_are_checked(kwargs: dict[str, str], words: str) -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match=words.replace("{", r"\{").replace("}", r"\}")):
        make_state_probe(**kwargs)


def test_the_state_endpoint_answers_404_for_an_unknown_object() -> None:
    import requests

    with ReferenceReceiver("stripe") as rx:
        reply = requests.get(rx.state_url.replace("{object_id}", "sub_unknown"), timeout=5)
    assert reply.status_code == 404 and json.loads(reply.text) == {"error": "no such object"}


def test_a_queue_first_receiver_that_applies_state_late_still_converges() -> None:
    with ReferenceReceiver("stripe", mode="queue-first", queue_delay=0.2) as rx:
        options = SequenceOptions(max_examples=3, seed=1, settle_timeout=2.0)
        probe = make_state_probe(rx.state_url)
        assert probe is not None
        with SequenceRunner(rx.provider, rx.url, rx.credentials, RequestsTransport(), probe, options) as runner:
            result = runner.run(rx.provider.lifecycle("subscription"))
    assert result.passed, result.failure and result.failure.reason
    assert result.reference.settled_after >= 0.1  # the state was read until it arrived, not judged at once
