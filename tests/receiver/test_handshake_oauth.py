"""Handshakes (Slack challenge, OCI confirmation callback) and the SendGrid OAuth token endpoint."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
import requests

from harness.deliveries import build_delivery
from harness.receiver import ReferenceReceiver
from tests.receiver._helpers import count, delivery, send, signed


@pytest.fixture
def callback() -> Iterator[tuple[str, list[str]]]:
    """A loopback server recording the paths it was asked for."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/20181201/subscriptions/confirm?token=abc", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _handshake(rx: ReferenceReceiver, confirmation_url: str = "") -> requests.Response:
    event = rx.provider.handshake_event
    assert event is not None
    payload = dict(event.samples[0])
    if "ConfirmationURL" in payload:
        payload["ConfirmationURL"] = confirmation_url
    d = build_delivery(rx.provider, payload, event_types=[event.name], confirmation_url=confirmation_url)
    return send(rx, signed(rx, d))


def test_slack_url_verification_echoes_the_challenge() -> None:
    with ReferenceReceiver("slack") as rx:
        answer = _handshake(rx)
        sample = rx.provider.handshake_event.samples[0]  # type: ignore[union-attr]
        assert answer.status_code == 200 and answer.json() == {"challenge": sample["challenge"]}


def test_slack_handshake_is_authenticated_too() -> None:
    with ReferenceReceiver("slack") as rx:
        event = rx.provider.handshake_event
        assert event is not None
        d = build_delivery(rx.provider, event.samples[0], event_types=[event.name])
        assert send(rx, d).status_code == 401


def test_ignores_handshake_bug_does_not_echo() -> None:
    with ReferenceReceiver("slack", bug="ignores-handshake") as rx:
        answer = _handshake(rx)
        assert answer.status_code == 200 and "challenge" not in answer.json()


def test_oci_confirmation_fetches_the_url(callback: tuple[str, list[str]]) -> None:
    url, hits = callback
    with ReferenceReceiver("oci") as rx:
        assert _handshake(rx, url).status_code == 200
    assert hits == ["/20181201/subscriptions/confirm?token=abc"]


def test_oci_ignores_handshake_bug_does_not_fetch(callback: tuple[str, list[str]]) -> None:
    url, hits = callback
    with ReferenceReceiver("oci", bug="ignores-handshake") as rx:
        assert _handshake(rx, url).status_code == 200
    assert hits == []


def test_oci_never_fetches_a_non_loopback_url() -> None:
    with ReferenceReceiver("oci") as rx:
        answer = _handshake(rx, "https://example.invalid/20181201/subscriptions/confirm?token=abc")
        assert answer.status_code == 200 and answer.json() == {"status": "confirmation handled"}


def test_oci_fetches_only_the_harness_callback_and_answers_alike(callback: tuple[str, list[str]]) -> None:
    """Other loopback URLs (another path, extra parameters) are not fetched: no port oracle for a sender."""
    url, hits = callback
    base = url.split("/20181201")[0]
    with ReferenceReceiver("oci") as rx:
        answers = [
            _handshake(rx, f"{base}/admin/shutdown"),
            _handshake(rx, f"{url}&next=/admin"),
            _handshake(rx, f"{base}/20181201/subscriptions/confirm"),
            _handshake(rx, url),
        ]
    assert hits == ["/20181201/subscriptions/confirm?token=abc"]
    assert {(a.status_code, a.text) for a in answers} == {(200, answers[-1].text)}


def test_token_endpoint_issues_tokens_to_its_client_only() -> None:
    with ReferenceReceiver("sendgrid") as rx:
        c = rx.credentials
        assert c.token_url == rx.token_url and c.client_id and c.client_secret
        form = {"grant_type": "client_credentials"}
        ok = requests.post(c.token_url, data=form, auth=(c.client_id, c.client_secret), timeout=5)
        assert ok.status_code == 200
        body = ok.json()
        assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"]
        as_form = requests.post(
            c.token_url, data={**form, "client_id": c.client_id, "client_secret": c.client_secret}, timeout=5
        )
        assert as_form.status_code == 200
        assert requests.post(c.token_url, data=form, auth=(c.client_id, "wrong"), timeout=5).status_code == 401
        wrong_grant = {"grant_type": "password"}
        assert (
            requests.post(c.token_url, data=wrong_grant, auth=(c.client_id, c.client_secret), timeout=5).status_code
            == 400
        )


def test_webhook_needs_an_issued_unexpired_token() -> None:
    now = [1_000_000.0]
    with ReferenceReceiver("sendgrid", clock=lambda: now[0]) as rx:
        c = rx.credentials
        assert c.token_url
        token = requests.post(
            c.token_url,
            data={"grant_type": "client_credentials"},
            auth=(c.client_id or "", c.client_secret or ""),
            timeout=5,
        ).json()["access_token"]
        d = signed(rx, delivery(rx.provider))
        assert send(rx, d.with_headers({"Authorization": f"Bearer {token}"})).status_code == 200
        assert send(rx, d.with_headers({"Authorization": "Bearer made-up"})).status_code == 401
        now[0] += 3601
        assert send(rx, d.with_headers({"Authorization": f"Bearer {token}"})).status_code == 401
        assert count(rx, d.idempotency_keys[0]) == 1
