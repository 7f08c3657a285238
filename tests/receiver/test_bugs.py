"""Each deliberate bug's behaviour, observed directly (the check matrix lives in tests/test_matrix.py)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.checks import CHECKS
from harness.receiver import BUGS, ReferenceReceiver, rejected_event
from harness.signing import tamper
from tests.receiver._helpers import CATALOG, count, delivery, forged, send, signed


def test_every_check_has_a_bug_that_fails_it() -> None:
    caught = {c for bug in BUGS.values() for p in CATALOG for c in bug.expected_failures(p)}
    assert caught == set(CHECKS.names())  # the checks registry, not the receiver's own list of check ids


def test_expected_failures_follow_the_provider_facts() -> None:
    presence = BUGS["presence-only-auth"]
    assert presence.expected_failures(CATALOG.get("oci")) == {"rejects-bad-auth"}
    assert presence.expected_failures(CATALOG.get("github")) == {"rejects-bad-auth", "rejects-tampered-body"}
    assert BUGS["no-timestamp-check"].expected_failures(CATALOG.get("github")) == frozenset()
    assert BUGS["no-timestamp-check"].expected_failures(CATALOG.get("slack")) == {"rejects-stale-timestamp"}
    plain = BUGS["plain-500"].expected_failures(CATALOG.get("jira"))
    assert "responds-in-time" not in plain and "handshake" not in plain and "reply-format" not in plain
    assert {"handshake", "reply-format"} & BUGS["plain-500"].expected_failures(CATALOG.get("teams")) == {"reply-format"}


def test_unknown_bug_is_a_usage_error() -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="Unknown bug"):
        ReferenceReceiver("github", bug="no-such-bug")


def test_auth_optional_accepts_missing_but_not_wrong_auth() -> None:
    with ReferenceReceiver("github", bug="auth-optional") as rx:
        d = delivery(rx.provider)
        assert send(rx, forged(rx, d, "missing")).status_code == 200
        assert send(rx, forged(rx, delivery(rx.provider, seed=2), "wrong-key")).status_code == 401


def test_presence_only_accepts_any_value_but_still_checks_timestamps() -> None:
    with ReferenceReceiver("stripe", bug="presence-only-auth") as rx:
        assert send(rx, forged(rx, delivery(rx.provider), "wrong-key")).status_code == 200
        assert send(rx, forged(rx, delivery(rx.provider, seed=2), "missing")).status_code == 401
        assert send(rx, signed(rx, delivery(rx.provider, seed=3), now=time.time() - 900)).status_code == 401


def test_prefix_signature_trusts_a_seen_signature_over_a_changed_tail() -> None:
    with ReferenceReceiver("shopify", bug="prefix-signature") as rx:
        fresh = signed(rx, delivery(rx.provider, seed=4))
        assert send(rx, fresh, body=tamper(rx.provider, fresh.body)).status_code == 401  # never seen: verified
        good = signed(rx, delivery(rx.provider, seed=5))
        assert send(rx, good).status_code == 200
        assert send(rx, good, body=tamper(rx.provider, good.body)).status_code == 200  # the bug


def test_no_timestamp_check_accepts_stale_requests() -> None:
    with ReferenceReceiver("slack", bug="no-timestamp-check") as rx:
        assert send(rx, signed(rx, delivery(rx.provider), now=time.time() - 3600)).status_code == 200


def test_accepts_invalid_acknowledges_schema_invalid_events() -> None:
    with ReferenceReceiver("stripe", bug="accepts-invalid") as rx:
        d = delivery(rx.provider)
        payload = json.loads(d.body)
        payload["created"] = "not a number"
        payload.pop("object", None)
        assert send(rx, signed(rx, d.replace(body=rx.provider.encode(payload)))).status_code == 200
        assert send(rx, signed(rx, d.replace(body=b"{oops"))).status_code == 400


def test_crashes_on_bad_json_answers_500() -> None:
    with ReferenceReceiver("jira", bug="crashes-on-bad-json") as rx:
        assert send(rx, signed(rx, delivery(rx.provider).replace(body=b"{oops"))).status_code == 500
        assert send(rx, signed(rx, delivery(rx.provider))).status_code == 200


def test_strict_fields_rejects_unknown_fields_and_types() -> None:
    with ReferenceReceiver("standard", bug="strict-fields") as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 200
        payload = json.loads(d.body)
        payload["added_later"] = 1
        assert (
            send(rx, signed(rx, delivery(rx.provider, seed=2).replace(body=rx.provider.encode(payload)))).status_code
            == 400
        )
        payload = json.loads(d.body)
        payload["type"] = "brand.new"
        assert (
            send(rx, signed(rx, delivery(rx.provider, seed=3).replace(body=rx.provider.encode(payload)))).status_code
            == 400
        )


def test_rejects_some_event_refuses_exactly_one_type() -> None:
    with ReferenceReceiver("github", bug="rejects-some-event") as rx:
        refused = rejected_event(rx.provider)
        assert refused is not None
        for name in rx.provider.ordinary_events:
            status = send(rx, signed(rx, delivery(rx.provider, event=name))).status_code
            assert status == (400 if name == refused else 200), name


@pytest.mark.parametrize(("bug", "status"), [("rejects-duplicates", 409), ("duplicate-500", 500)])
def test_duplicate_bugs_answer_an_error_to_redelivery(bug: str, status: int) -> None:
    with ReferenceReceiver("stripe", bug=bug) as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 200
        assert send(rx, signed(rx, d)).status_code == status
        assert count(rx, d.idempotency_keys[0]) == 1


def test_stores_duplicates_counts_two() -> None:
    with ReferenceReceiver("sendgrid", bug="stores-duplicates") as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 200
        assert send(rx, signed(rx, d)).status_code == 200
        assert count(rx, d.idempotency_keys[0]) == 2


def test_racy_dedupe_dedupes_sequentially_but_not_concurrently() -> None:
    with ReferenceReceiver("github", bug="racy-dedupe") as rx:
        d = signed(rx, delivery(rx.provider))
        assert send(rx, d).status_code == 200 and send(rx, d).status_code == 200
        assert count(rx, d.idempotency_keys[0]) == 1
        c = signed(rx, delivery(rx.provider, seed=2))
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(lambda _: send(rx, c).status_code, range(4))) == [200] * 4
        assert count(rx, c.idempotency_keys[0]) > 1


def test_slow_answers_after_the_delay() -> None:
    with ReferenceReceiver("teams", bug="slow", delay=0.4) as rx:
        started = time.monotonic()
        assert send(rx, signed(rx, delivery(rx.provider))).status_code == 200
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        assert send(rx, forged(rx, delivery(rx.provider, seed=2), "missing")).status_code == 401
        assert time.monotonic() - started < 0.4  # only accepted deliveries are slow


def test_bad_reply_omits_the_message_type() -> None:
    with ReferenceReceiver("teams", bug="bad-reply") as rx:
        answer = send(rx, signed(rx, delivery(rx.provider)))
        assert answer.status_code == 200 and "type" not in answer.json()


def test_plain_500_breaks_the_webhook_but_not_the_probe() -> None:
    with ReferenceReceiver("sendgrid", bug="plain-500") as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 500  # signing still gets a token: the token endpoint works
        assert count(rx, d.idempotency_keys[0]) == 0
        assert requests.get(rx.probe_url.format(event_id="x"), timeout=5).json() == {"count": 0}
