"""The correct reference receiver, for every provider: auth, parsing, deduplication, replies, lifecycle."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from harness.receiver import Facts, ReferenceReceiver
from harness.volume import VolumeGenerator
from tests.receiver._helpers import CATALOG, PROVIDERS, count, delivery, forged, send, signed


@pytest.fixture(params=PROVIDERS)
def rx(request: pytest.FixtureRequest) -> object:
    with ReferenceReceiver(request.param) as receiver:
        yield receiver


def test_valid_delivery_is_accepted_and_stored_once(rx: ReferenceReceiver) -> None:
    d = delivery(rx.provider)
    first = send(rx, signed(rx, d))
    assert first.status_code == 200, first.text
    again = send(rx, signed(rx, d))  # a retry: same key, fresh signature
    assert again.status_code == 200, again.text
    for key in d.idempotency_keys:
        assert count(rx, key) == 1
        assert rx.count(key) == 1


def test_concurrent_duplicates_are_stored_once(rx: ReferenceReceiver) -> None:
    d = signed(rx, delivery(rx.provider, seed=11))
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: send(rx, d).status_code, range(8)))
    assert statuses == [200] * 8
    assert [count(rx, k) for k in d.idempotency_keys] == [1] * len(d.idempotency_keys)


@pytest.mark.parametrize("variant", ["missing", "wrong-key", "malformed-header"])
def test_bad_or_missing_auth_is_401_and_not_stored(rx: ReferenceReceiver, variant: str) -> None:
    d = delivery(rx.provider, seed=3)
    answer = send(rx, forged(rx, d, variant))
    assert answer.status_code == 401, answer.text
    assert all(count(rx, k) == 0 for k in d.idempotency_keys)


def test_tampered_body_is_401(rx: ReferenceReceiver) -> None:
    from harness.signing import active_schemes

    if not Facts.of(rx.provider).signs_body:
        pytest.skip("OCI authenticates with HTTP Basic: nothing signs the body")
    good = signed(rx, delivery(rx.provider, seed=5))
    assert send(rx, good).status_code == 200
    scheme = active_schemes(rx.provider, rx.credentials)[0]  # SNS changes a signed field, the others the body's end
    assert send(rx, good, body=scheme.tampered(rx.provider, good, good.body).body).status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"not json', 400), (b"", 400), (b"[1, 2", 400), (b'{"a": NaN}', 400)],
    ids=["truncated", "empty", "unclosed", "nan"],
)
def test_malformed_json_is_400(rx: ReferenceReceiver, body: bytes, status: int) -> None:
    d = signed(rx, delivery(rx.provider).replace(body=body))
    if "graph-client-state" in rx.provider.auth.schemes:
        status = 401  # Graph's secret travels inside the notifications: a body that is not JSON carries none
    elif Facts.of(rx.provider).auth_in_body:
        try:
            carries = isinstance(json.loads(body), dict)  # Python's parser takes NaN; the receiver's does not
        except ValueError:
            carries = False
        carries = carries and d.body != body  # SNS and Mailgun sign into the body: nothing to sign into, no signature
        status = status if carries else 401  # a body that is not a JSON object cannot carry the signature
    assert send(rx, d).status_code == status


def test_schema_invalid_known_event_is_400(rx: ReferenceReceiver) -> None:
    d = delivery(rx.provider, seed=9)
    payload = rx.provider.decode(d.body)  # JSON, or a form's parameters
    item = payload[0] if isinstance(payload, list) else payload
    name = d.event_types[0]
    schema = rx.provider.event(name).schema
    if "$ref" in schema:  # a generated catalog's event file points into defs.schema.json
        schema = rx.provider.registry.resolver(base_uri=schema["$id"]).lookup(schema["$ref"]).contents
    required = [f for f in schema.get("required", []) if f not in ("type", "event")]
    only = schema.get("required", [])
    while len(only) == 1 and (not required or schema["properties"][only[0]].get("type") == "array"):
        # an envelope of one object (PagerDuty's event) or of one array (Graph's value)
        key = schema["required"][0]
        schema, item = schema["properties"][key], item[key]
        if schema.get("type") == "array":  # Graph's value: an array of notifications
            schema, item = schema["items"], item[0]
        required = [f for f in schema.get("required", []) if f not in ("id", "event_type")]
        only = schema.get("required", [])
    assert required, name
    item.pop(required[-1])
    answer = send(rx, signed(rx, d.replace(body=rx.provider.encode(payload))))
    assert answer.status_code == 400, answer.text


def test_wrong_content_type_is_415(rx: ReferenceReceiver) -> None:
    other = "application/xml" if rx.provider.content_type.startswith("text/plain") else "text/plain"  # SNS: text/plain
    d = signed(rx, delivery(rx.provider)).with_headers({"Content-Type": other})
    assert send(rx, d).status_code == 415


def test_body_over_the_provider_cap_is_413() -> None:
    with ReferenceReceiver("teams") as rx:  # 256 KiB cap
        big = b'{"type":"message","text":"' + b"x" * (rx.provider.body.max_bytes + 10) + b'"}'
        assert send(rx, signed(rx, delivery(rx.provider).replace(body=big))).status_code == 413


def test_unknown_event_type_and_fields_are_accepted() -> None:
    with ReferenceReceiver("stripe") as rx:
        d = delivery(rx.provider, seed=21)
        payload = json.loads(d.body)
        payload["type"] = "brand_new.event_type"
        payload["a_field_added_later"] = {"nested": True}
        answer = send(rx, signed(rx, d.replace(body=rx.provider.encode(payload))))
        assert answer.status_code == 200, answer.text
        assert count(rx, payload["id"]) == 1


def test_sendgrid_batch_stores_each_event_once() -> None:
    with ReferenceReceiver("sendgrid") as rx:
        batch = next(VolumeGenerator("sendgrid", 4).deliveries(1, batch_size=5))
        assert len(batch.idempotency_keys) == 5
        assert send(rx, signed(rx, batch)).status_code == 200
        assert send(rx, signed(rx, batch)).status_code == 200
        assert [count(rx, k) for k in batch.idempotency_keys] == [1] * 5


def test_teams_replies_with_a_message() -> None:
    with ReferenceReceiver("teams") as rx:
        answer = send(rx, signed(rx, delivery(rx.provider)))
        assert answer.status_code == 200
        reply = answer.json()
        assert reply["type"] == "message" and reply["text"]
        validator = rx.provider.reply_validator
        assert validator is not None and not list(validator.iter_errors(reply))


def test_stale_timestamp_is_401_where_the_provider_has_a_tolerance() -> None:
    for provider in ("stripe", "slack", "standard"):
        with ReferenceReceiver(provider) as rx:
            d = delivery(rx.provider)
            assert send(rx, signed(rx, d, now=time.time() - 400)).status_code == 401
            assert send(rx, signed(rx, d, now=time.time() - 200)).status_code == 200


def test_stop_is_clean_and_bounded(tmp_path: Path) -> None:
    rx = ReferenceReceiver("github").start()
    port, folder = rx.port, rx._tmp
    assert folder is not None and folder.exists()
    started = time.monotonic()
    rx.stop()
    rx.stop()  # idempotent
    assert time.monotonic() - started < 5
    assert not folder.exists()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


def test_stop_does_not_wait_for_a_slow_handler() -> None:
    rx = ReferenceReceiver("github", bug="slow", delay=30).start()
    try:
        d = signed(rx, delivery(rx.provider))
        with pytest.raises(requests.RequestException):
            requests.post(rx.url, data=d.body, headers=dict(d.headers), timeout=0.5)
    finally:
        started = time.monotonic()
        rx.stop()
    assert time.monotonic() - started < 5


def test_probe_sql_counts_like_the_probe() -> None:
    from sqlalchemy import create_engine, text

    with ReferenceReceiver("jira") as rx:
        d = delivery(rx.provider)
        assert send(rx, signed(rx, d)).status_code == 200
        engine = create_engine(rx.db_url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text(rx.probe_sql), {"event_id": d.idempotency_keys[0]}).scalar_one() == 1
        finally:
            engine.dispose()


def test_generated_credentials_fit_the_provider() -> None:
    kinds = {}
    for provider in CATALOG:
        with ReferenceReceiver(provider) as rx:
            c = rx.credentials
            kinds[provider.id] = (bool(c.secret), bool(c.signing_key), c.has_oauth, c.basic is not None)
            if provider.id in ("stripe", "standard"):
                assert c.secret and c.secret.startswith("whsec_")
    assert kinds["sendgrid"] == (False, True, True, False)
    assert kinds["oci"] == (False, False, False, True)
    assert kinds["github"] == (True, False, False, False)
