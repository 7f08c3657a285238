"""Each deliberate bug's behaviour, observed directly (the check matrix lives in tests/test_matrix.py)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.checks import CHECKS, ordered_ids
from harness.receiver import BUGS, CHECK_IDS, ReferenceReceiver, rejected_event
from harness.signing import tamper
from harness.volume import VolumeGenerator
from tests.receiver._helpers import CATALOG, count, delivery, forged, send, signed


def test_the_bug_catalogue_follows_the_check_registry() -> None:
    assert CHECK_IDS == tuple(ordered_ids())
    named = {bug for name in ordered_ids() for bug in CHECKS.get(name).bugs}
    assert named <= set(BUGS), "a registration names a bug the receiver does not have"
    for bug in BUGS.values():
        if not bug.generic:
            assert bug.fails == {c for c in ordered_ids() if bug.name in CHECKS.get(c).bugs}


def test_every_registered_check_has_a_dedicated_bug_that_fails_it() -> None:
    caught = {c for bug in BUGS.values() if not bug.generic for p in CATALOG for c in bug.expected_failures(p)}
    assert caught == set(ordered_ids())
    # every genuine delivery refused: plain-500 anywhere, ignores-query-string where the URL under test has a query
    assert [b.name for b in BUGS.values() if b.generic] == ["plain-500", "ignores-query-string"]


def test_expected_failures_follow_the_provider_facts() -> None:
    presence = BUGS["presence-only-auth"]
    assert presence.expected_failures(CATALOG.get("oci")) == {"rejects-bad-auth"}
    assert presence.expected_failures(CATALOG.get("github")) == {"rejects-bad-auth", "rejects-tampered-body"}
    assert BUGS["no-timestamp-check"].expected_failures(CATALOG.get("github")) == frozenset()
    assert BUGS["no-timestamp-check"].expected_failures(CATALOG.get("slack")) == {"rejects-stale-timestamp"}
    plain = BUGS["plain-500"].expected_failures(CATALOG.get("jira"))
    assert "handshake" not in plain and "reply-format" not in plain and "converges" not in plain
    assert "responds-in-time" in plain  # a 500 in time acknowledges nothing (issue 25)
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


def test_reserialised_signature_refuses_non_ascii_text_only() -> None:
    with ReferenceReceiver("github", bug="reserialised-signature") as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 200
        payload = json.loads(d.body)
        payload["zen"] = "Grüße aus 東京"
        hostile = d.replace(body=rx.provider.encode(payload))
        assert "Grüße".encode() in hostile.body  # raw UTF-8, as the provider sends it
        assert send(rx, signed(rx, hostile)).status_code == 401


def test_first_signature_only_refuses_a_rotation_header_with_the_unknown_key_first() -> None:
    from harness.signing import scheme_for

    other = "whsec_" + "b" * 43 + "="
    with ReferenceReceiver("stripe", bug="first-signature-only") as rx, ReferenceReceiver("stripe") as good:
        for receiver, first, status in ((rx, True, 401), (rx, False, 200), (good, True, 200), (good, False, 200)):
            d = scheme_for(receiver.provider, "stripe").sign_rotated(  # type: ignore[attr-defined]
                receiver.provider,
                delivery(receiver.provider, seed=int(first)),
                receiver.credentials,
                time.time(),
                extra_keys=[other],
                extra_first=first,
            )
            assert send(receiver, d).status_code == status, (receiver.bug, first)


def test_first_event_only_stores_body_0_and_drops_the_rest() -> None:
    with ReferenceReceiver("sendgrid", bug="first-event-only") as rx:
        d = next(VolumeGenerator(rx.provider, seed=3).deliveries(1, batch_size=3))
        assert len(d.idempotency_keys) == 3
        assert send(rx, signed(rx, d)).status_code == 200
        assert [count(rx, key) for key in d.idempotency_keys] == [1, 0, 0]


def test_lenient_mode_accepts_schema_invalid_events_but_not_the_wrong_shape() -> None:
    with ReferenceReceiver("stripe", mode="lenient") as rx:
        d = delivery(rx.provider)
        payload = json.loads(d.body)
        payload.pop("object", None)
        assert send(rx, signed(rx, d.replace(body=rx.provider.encode(payload)))).status_code == 200
        assert send(rx, signed(rx, delivery(rx.provider, seed=2).replace(body=b"[1, 2]"))).status_code == 400
        assert send(rx, signed(rx, delivery(rx.provider, seed=3).replace(body=b"{oops"))).status_code == 400


def test_queue_first_answers_before_it_stores() -> None:
    with ReferenceReceiver("github", mode="queue-first") as rx:
        d = signed(rx, delivery(rx.provider))
        assert send(rx, d).status_code == 200
        assert count(rx, d.idempotency_keys[0]) == 0  # acknowledged, not yet stored
        deadline = time.monotonic() + 5
        while count(rx, d.idempotency_keys[0]) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the receiver's real queue delay (0.5 s), bounded
        assert count(rx, d.idempotency_keys[0]) == 1


def test_an_unknown_mode_is_a_usage_error() -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="Unknown receiver mode"):
        ReferenceReceiver("github", mode="eventual")
