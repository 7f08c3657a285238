"""Send -> record -> replay against the reference receiver, for every provider; stale recordings; handshakes; tap."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.credentials import Credentials
from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver
from harness.recording import Recorder, ReplayOptions, oci_or_loopback, replay
from harness.signing import forge_delivery, sign_delivery
from harness.transport import RequestsTransport
from tests.recording._helpers import CATALOG, PROVIDERS, TIMEOUT, CapturingTransport, records, send_all, unsigned


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_round_trip_every_provider(provider_id: str, tmp_path: Path) -> None:
    provider = CATALOG.get(provider_id)
    out = tmp_path / "capture.jsonl"
    lines: list[str] = []
    with ReferenceReceiver(provider) as rx:
        creds = rx.credentials
        with Recorder(provider, out, credentials=creds, on_record=lines.append) as recorder:
            sent = send_all(provider, unsigned(provider, 3), creds, recorder.url)
        assert all(reply.ok for _, reply in sent)
        captured = records(out)
        assert [r.body for r in captured] == [d.body for d, _ in sent]  # stored byte for byte
        assert [r.verified for r in captured] == [True] * 3
        assert len(lines) == 3 and all("verified ->" in line for line in lines)
        transport = CapturingTransport()
        result = replay(
            provider,
            captured,
            rx.url,
            creds,
            ReplayOptions(settle=0),
            probe=make_probe(rx.probe_url),
            transport=transport,
        )
        assert result.exit_code == 0, [v.title for v in result.violations]
        assert [s.reply.status for s in result.sent] == [200] * 3
        assert [d.body for d in transport.sent] == [d.body for d, _ in sent]  # replayed bytes are the sent bytes
        keys = {k for d, _ in sent for k in d.idempotency_keys}
        assert keys and result.counts == dict.fromkeys(keys, 1)
        assert all(rx.count(k) == 1 for k in keys)


@pytest.mark.parametrize("provider_id", [p.id for p in CATALOG if p.auth.tolerance is not None])
def test_a_recording_made_ten_minutes_ago_is_still_accepted(provider_id: str, tmp_path: Path) -> None:
    provider = CATALOG.get(provider_id)
    out = tmp_path / "old.jsonl"
    then = time.time() - 600
    with ReferenceReceiver(provider) as rx:
        creds = rx.credentials
        with Recorder(provider, out, credentials=creds, keep_auth=True, clock=lambda: then) as recorder:
            sent = send_all(provider, unsigned(provider, 2, seed=5), creds, recorder.url, now=then)
        captured = records(out)
        assert [r.verified for r in captured] == [True, True]
        assert all(r.received_at.startswith(time.strftime("%Y-%m-%d", time.gmtime(then))) for r in captured)
        stale = RequestsTransport().send(sent[0][0], rx.url, timeout=TIMEOUT)
        assert stale.status == 401  # the old headers as recorded: what header-replaying tools send
        result = replay(provider, captured, rx.url, creds, ReplayOptions(settle=0), probe=make_probe(rx.probe_url))
        assert result.exit_code == 0 and [s.reply.status for s in result.sent] == [200, 200]


def test_with_accept_unverified_a_delivery_that_fails_verification_is_stored_and_marked(tmp_path: Path) -> None:
    provider = CATALOG.get("github")
    out = tmp_path / "gh.jsonl"
    with ReferenceReceiver(provider) as rx:
        creds = rx.credentials
        good, bad = unsigned(provider, 2)
        forged = forge_delivery(provider, bad, creds, "wrong-key")
        assert forged is not None
        lines: list[str] = []
        with Recorder(provider, out, credentials=creds, on_record=lines.append, accept_unverified=True) as recorder:
            transport = RequestsTransport()
            assert transport.send(sign_delivery(provider, good, creds), recorder.url, timeout=TIMEOUT).ok
            assert transport.send(forged, recorder.url, timeout=TIMEOUT).ok
    assert [r.verified for r in records(out)] == [True, False]
    assert "FAILED verification (github: X-Hub-Signature-256 does not match)" in lines[1]
    assert creds.secret and all(creds.secret not in line for line in lines)
    assert creds.secret not in out.read_text()


def test_without_credentials_nothing_is_verified(tmp_path: Path) -> None:
    provider = CATALOG.get("stripe")
    with Recorder(provider, tmp_path / "s.jsonl") as recorder:
        reply = RequestsTransport().send(unsigned(provider, 1)[0], recorder.url, timeout=TIMEOUT)
    assert reply.ok and [r.verified for r in records(tmp_path / "s.jsonl")] == [None]


def test_slack_challenge_and_teams_message_are_answered(tmp_path: Path) -> None:
    slack = CATALOG.get("slack")
    with Recorder(slack, tmp_path / "slack.jsonl") as recorder:
        answer = requests.post(
            recorder.url,
            json={"token": "t", "challenge": "c-123", "type": "url_verification"},
            timeout=TIMEOUT,
        )
    assert answer.status_code == 200 and answer.json() == {"challenge": "c-123"}
    teams = CATALOG.get("teams")
    with Recorder(teams, tmp_path / "teams.jsonl") as recorder:
        reply = RequestsTransport().send(unsigned(teams, 1)[0], recorder.url, timeout=TIMEOUT)
    assert reply.ok and teams.reply_validator is not None
    assert not list(teams.reply_validator.iter_errors(json.loads(reply.body)))


def test_the_recorder_answers_unsigned_handshakes_told_by_query_or_header(tmp_path: Path) -> None:
    """Graph's validationToken, Dropbox's challenge and Asana's X-Hook-Secret come before any signature: answered."""
    cases = [
        ("msgraph", "POST", {"validationToken": "Validation: a b"}, {}, "Validation: a b"),
        ("dropbox", "GET", {"challenge": "abc123"}, {}, "abc123"),
        ("asana", "POST", {}, {"X-Hook-Secret": "b537207f20cb"}, ""),
    ]
    for pid, method, query, headers, body in cases:
        provider = CATALOG.get(pid)
        with Recorder(provider, tmp_path / f"{pid}.jsonl", credentials=Credentials(secret="s")) as recorder:
            answer = requests.request(method, recorder.url, params=query, headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 200 and answer.text == body, pid
        assert answer.headers.get("X-Hook-Secret") == headers.get("X-Hook-Secret"), pid


@pytest.fixture
def confirmation_server() -> Iterator[tuple[str, list[str]]]:
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
        yield f"http://127.0.0.1:{server.server_address[1]}/confirm?token=abc", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_oci_confirmation_is_fetched_and_the_handshake_is_not_replayed(
    tmp_path: Path, confirmation_server: tuple[str, list[str]]
) -> None:
    from harness.deliveries import build_delivery

    url, hits = confirmation_server
    oci = CATALOG.get("oci")
    sample = oci.events["SubscriptionConfirmation"].samples[0]
    confirm = build_delivery(oci, {**sample, "ConfirmationURL": url}, confirmation_url=url)
    out = tmp_path / "oci.jsonl"
    with ReferenceReceiver(oci) as rx:
        with Recorder(oci, out, credentials=rx.credentials, confirm_allowed=oci_or_loopback) as recorder:
            send_all(oci, [confirm, *unsigned(oci, 1)], rx.credentials, recorder.url)
        assert hits == ["/confirm?token=abc"]
        result = replay(oci, records(out), rx.url, rx.credentials, ReplayOptions(settle=0))
    assert len(result.sent) == 1 and result.exit_code == 0
    assert len(result.skipped) == 1 and "SubscriptionConfirmation handshake is not replayed" in result.skipped[0]
    assert hits == ["/confirm?token=abc"]


@pytest.mark.parametrize("provider_id", ["stripe", "sendgrid", "slack"])
def test_tap_relays_unchanged_and_records_the_receivers_answer(provider_id: str, tmp_path: Path) -> None:
    provider = CATALOG.get(provider_id)
    out = tmp_path / "tap.jsonl"
    with ReferenceReceiver(provider) as rx:
        creds = rx.credentials
        good, bad = unsigned(provider, 2, seed=9)
        forged = forge_delivery(provider, bad, creds, "tampered-body")
        assert forged is not None
        with Recorder(provider, out, credentials=creds, forward=rx.url, accept_unverified=True) as tap:
            transport = RequestsTransport()
            signed = sign_delivery(provider, good, creds)
            accepted = transport.send(signed, tap.url, timeout=TIMEOUT)
            again = transport.send(signed, tap.url, timeout=TIMEOUT)
            refused = transport.send(forged, tap.url, timeout=TIMEOUT)
        assert accepted.status == 200 and b'"stored"' in accepted.body  # the real receiver's own answer
        assert again.status == 200 and b'"duplicates"' in again.body
        assert refused.status == 401
        assert all(rx.count(k) == 1 for k in good.idempotency_keys)
        assert all(rx.count(k) == 0 for k in forged.idempotency_keys)
    captured = records(out)
    assert [r.reply["status"] if r.reply else None for r in captured] == [200, 200, 401]
    assert [r.verified for r in captured] == [True, True, False]
    assert captured[0].body == signed.body and captured[2].body == forged.body


def test_tap_to_a_dead_receiver_answers_502_and_still_records(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/gone"
    provider = CATALOG.get("github")
    with Recorder(provider, tmp_path / "t.jsonl", forward=dead) as tap:
        reply = RequestsTransport().send(unsigned(provider, 1)[0], tap.url, timeout=TIMEOUT)
    assert reply.status == 502
    (record,) = records(tmp_path / "t.jsonl")
    assert record.reply is not None and record.reply["status"] == 0 and record.reply["error"]


def test_an_oversized_body_is_refused_and_not_stored(tmp_path: Path) -> None:
    provider = CATALOG.get("github")
    with Recorder(provider, tmp_path / "big.jsonl", max_body=1000) as recorder:
        answer = requests.post(recorder.url, data=b"x" * 5000, timeout=TIMEOUT)
        assert answer.status_code == 413
        assert recorder.summary.refused == 1
    assert records(tmp_path / "big.jsonl") == []


def test_sendgrid_is_verified_with_only_the_public_key(tmp_path: Path) -> None:
    from dataclasses import replace

    from cryptography.hazmat.primitives import serialization

    from harness.credentials import Credentials
    from harness.receiver._keys import load_public_key

    provider = CATALOG.get("sendgrid")
    with ReferenceReceiver(provider) as rx:
        creds = rx.credentials
        assert creds.signing_key
        public = load_public_key(creds.signing_key).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pem = tmp_path / "sendgrid-public.pem"
        pem.write_bytes(public)
        signer = replace(creds, token_url=None, client_id=None, client_secret=None)
        public_only = Credentials(signing_key=str(pem))
        with Recorder(provider, tmp_path / "sg.jsonl", credentials=public_only, accept_unverified=True) as recorder:
            good = send_all(provider, unsigned(provider, 2), signer, recorder.url)
            forged = forge_delivery(provider, unsigned(provider, 1, seed=99)[0], signer, "wrong-key")
            assert forged is not None
            RequestsTransport().send(forged, recorder.url, timeout=TIMEOUT)
    assert all(reply.ok for _, reply in good)
    assert [r.verified for r in records(tmp_path / "sg.jsonl")] == [True, True, False]


def test_a_delivery_that_cannot_be_stored_gets_503_so_the_provider_retries(tmp_path: Path) -> None:
    provider = CATALOG.get("github")
    lines: list[str] = []
    with Recorder(provider, tmp_path / "full.jsonl", on_record=lines.append) as recorder:
        writer = recorder._writer
        assert writer is not None

        def disk_full(record: object) -> None:
            raise OSError(28, "No space left on device")

        writer.write = disk_full  # type: ignore[method-assign]
        reply = RequestsTransport().send(unsigned(provider, 1)[0], recorder.url, timeout=TIMEOUT)
    assert reply.status == 503 and "No space left on device" in lines[-1]


def test_tap_to_a_receiver_that_hangs_answers_502_within_the_providers_timeout(tmp_path: Path) -> None:
    import socket

    slack = CATALOG.get("slack")
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(4)  # accepts connections, never answers
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}/hook"
        with Recorder(slack, tmp_path / "h.jsonl", forward=url) as tap:
            started = time.monotonic()
            reply = RequestsTransport().send(unsigned(slack, 1)[0], tap.url, timeout=TIMEOUT)
            took = time.monotonic() - started
    assert reply.status == 502 and took < slack.timeout + 2
    (record,) = records(tmp_path / "h.jsonl")
    assert record.reply is not None and record.reply["error"] == "timed out"
