"""Replay options: order, duplicates, filter, fresh keys, rate; what a receiver that stores twice looks like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.credentials import Credentials, Redactor
from harness.errors import ConfigError, UsageError
from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver
from harness.recording import Record, ReplayOptions, plan_replay, record_of, replay
from tests.recording._helpers import CATALOG, CapturingTransport, unsigned

STRIPE = CATALOG.get("stripe")


def _records(provider_id: str, n: int = 4, seed: int = 3) -> list[Record]:
    provider = CATALOG.get(provider_id)
    return [record_of(d, path="/", received_at="") for d in unsigned(provider, n, seed=seed)]


def _types(records: list[Record]) -> list[str]:
    return [json.loads(r.body)["type"] for r in records]


def test_plan_orders_and_duplicates() -> None:
    recs = _records("stripe")
    ids = [json.loads(r.body)["id"] for r in recs]
    plan, _ = plan_replay(STRIPE, recs, ReplayOptions(order="reverse", duplicates=2))
    assert [p.delivery.idempotency_keys[0] for p in plan] == [k for k in reversed(ids) for _ in (1, 2)]
    assert [p.copy for p in plan] == [1, 2] * 4
    shuffled, _ = plan_replay(STRIPE, recs, ReplayOptions(order="shuffle", duplicates=3), seed=1)
    again, _ = plan_replay(STRIPE, recs, ReplayOptions(order="shuffle", duplicates=3), seed=1)
    keys = [p.delivery.idempotency_keys[0] for p in shuffled]
    assert keys == [p.delivery.idempotency_keys[0] for p in again]  # the seed reproduces the order
    assert sorted(keys) == sorted(k for k in ids for _ in range(3)) and keys != [k for k in ids for _ in range(3)]


def test_filter_keeps_only_the_named_event_types() -> None:
    recs = _records("stripe", 8)
    wanted = _types(recs)[0]
    plan, _ = plan_replay(STRIPE, recs, ReplayOptions(events=(wanted,)))
    assert plan and all(p.delivery.event_types == (wanted,) for p in plan)
    assert len(plan) == _types(recs).count(wanted)


@pytest.mark.parametrize("provider_id", ["stripe", "sendgrid", "github", "standard"])
def test_new_ids_change_only_the_keys(provider_id: str) -> None:
    provider = CATALOG.get(provider_id)
    recs = _records(provider_id, 2)
    plain, _ = plan_replay(provider, recs, ReplayOptions(duplicates=2))
    fresh, _ = plan_replay(provider, recs, ReplayOptions(new_ids=True, duplicates=2), seed=5)
    for old, new in zip(plain, fresh, strict=True):
        assert set(old.delivery.idempotency_keys).isdisjoint(new.delivery.idempotency_keys)
        assert len(old.delivery.body) == len(new.delivery.body)  # same shapes: prefix kept, characters redrawn
        if provider.idempotency_key.where == "header":
            assert old.delivery.body == new.delivery.body
        items = new.delivery.payload if isinstance(new.delivery.payload, list) else [new.delivery.payload]
        types = new.delivery.event_types
        errors = [e for t, p in zip(types, items, strict=True) for e in provider.schema_errors(t, p)]
        assert errors == []  # fresh keys still match the schema's key pattern
    assert fresh[0].delivery.idempotency_keys == fresh[1].delivery.idempotency_keys  # copies share their new key


def test_replaying_the_same_capture_twice_with_new_ids_stores_each_time(tmp_path: Path) -> None:
    recs = _records("stripe", 3)
    with ReferenceReceiver(STRIPE) as rx:
        probe = make_probe(rx.probe_url)
        first = replay(STRIPE, recs, rx.url, rx.credentials, ReplayOptions(settle=0), probe=probe)
        second = replay(STRIPE, recs, rx.url, rx.credentials, ReplayOptions(settle=0, new_ids=True), probe=probe)
    assert first.exit_code == second.exit_code == 0
    assert set(first.counts).isdisjoint(second.counts) and len(second.counts) == 3


def test_duplicates_against_a_receiver_that_stores_twice_fail_single_effect() -> None:
    recs = _records("stripe", 2)
    with ReferenceReceiver(STRIPE, bug="stores-duplicates") as rx:
        result = replay(
            STRIPE, recs, rx.url, rx.credentials, ReplayOptions(settle=0, duplicates=3), probe=make_probe(rx.probe_url)
        )
    assert result.exit_code == 1
    assert {v.check for v in result.violations} == {"replay-single-effect"}
    assert set(result.counts.values()) == {3}


def test_a_refused_delivery_is_a_violation_with_a_redacted_repro() -> None:
    recs = _records("github", 1)
    github = CATALOG.get("github")
    with ReferenceReceiver(github) as rx:
        wrong = Credentials(secret="not-the-receivers-secret")
        result = replay(github, recs, rx.url, wrong, ReplayOptions(settle=0))
    assert result.exit_code == 1 and result.violations[0].check == "replay-acknowledged"
    assert "401" in result.violations[0].received
    assert "not-the-receivers-secret" not in json.dumps(result.to_json(Redactor(wrong.secrets())))


def test_rate_spaces_the_sends_with_the_injected_sleep() -> None:
    recs = _records("stripe", 3)
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with ReferenceReceiver(STRIPE) as rx:
        transport = CapturingTransport()
        result = replay(
            STRIPE,
            recs,
            rx.url,
            rx.credentials,
            ReplayOptions(rate=2.0, settle=0),
            transport=transport,
            sleep=sleep,
            monotonic=lambda: now[0],
        )
    assert result.exit_code == 0 and len(transport.sent) == 3
    assert waits == [0.5, 0.5]


def test_replay_without_signing_credentials_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="needs credentials to sign"):
        replay(STRIPE, _records("stripe", 1), "http://127.0.0.1:9/x", Credentials())


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        ReplayOptions(order="sideways")
    with pytest.raises(UsageError):
        ReplayOptions(duplicates=0)


def test_deliveries_that_failed_verification_are_not_replayed_unless_asked() -> None:
    from dataclasses import replace

    recs = _records("stripe", 3)
    recs[1] = replace(recs[1], verified=False, source="t.jsonl:2")
    plan, skipped = plan_replay(STRIPE, recs, ReplayOptions())
    assert len(plan) == 2 and skipped == [
        "t.jsonl:2: failed verification when recorded (--include-failed replays it re-signed)"
    ]
    plan, skipped = plan_replay(STRIPE, recs, ReplayOptions(include_failed=True))
    assert len(plan) == 3 and not skipped


def test_shuffled_copies_are_numbered_in_sending_order() -> None:
    plan, _ = plan_replay(STRIPE, _records("stripe", 3), ReplayOptions(order="shuffle", duplicates=3), seed=2)
    for number in (1, 2, 3):
        assert [p.copy for p in plan if p.number == number] == [1, 2, 3]


def test_requests_that_are_not_deliveries_are_skipped() -> None:
    health = Record("GET", "/healthz", {}, b"", source="t.jsonl:1")
    plan, skipped = plan_replay(STRIPE, [health, *_records("stripe", 1)], ReplayOptions())
    assert len(plan) == 1 and skipped == ["t.jsonl:1: a GET request, not a stripe delivery (POST)"]


def test_new_ids_leave_keys_not_written_as_json_strings_alone() -> None:
    teams = CATALOG.get("teams")
    record = _records("teams", 1)[0]
    payload = json.loads(record.body)
    payload["id"] = 424242  # a numeric key: no byte-exact way to rewrite it, so it stays
    from dataclasses import replace

    numeric = replace(record, body=teams.encode(payload))
    (planned,), _ = plan_replay(teams, [numeric], ReplayOptions(new_ids=True))
    assert planned.delivery.body == numeric.body and planned.delivery.idempotency_keys == ("424242",)
