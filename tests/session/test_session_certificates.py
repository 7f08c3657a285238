"""No process-wide certificate server: each session serves SNS's signing certificate itself, and stops it on close."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request

from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.engine.session import Session
from harness.settings.resolve import resolve_run_config
from harness.signing import sign_delivery, sns_keypair

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _session(name: str, provider: str = "aws-sns") -> Session:
    key, _ = sns_keypair()
    options = {"provider": provider, "url": f"http://{name}.receiver.invalid/hook", "signing_key": key.decode()}
    return Session(resolve_run_config(options, config={}, env={}))


def _signed(session: Session) -> Delivery:
    provider = session.provider
    event = "Notification"
    return sign_delivery(provider, build_delivery(provider, provider.events[event].samples[0]), session.credentials)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def _server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "sns-certificates"}


def test_two_sessions_each_serve_and_stop_their_own_certificate_server() -> None:
    before = set(threading.enumerate())
    alpha, bravo = _session("alpha"), _session("bravo")
    try:
        assert not alpha.certificates.running and not bravo.certificates.running  # nothing served until needed
        urls = {}
        for session in (alpha, bravo):
            urls[session] = json.loads(_signed(session).body)["SigningCertURL"]
        assert alpha.certificates.port != bravo.certificates.port
        for session, other in ((alpha, bravo), (bravo, alpha)):
            url = urls[session]
            assert url.startswith(f"http://127.0.0.1:{session.certificates.port}/SimpleNotificationService-")
            with _DIRECT.open(url, timeout=5) as response:  # each session's own key's certificate, from its own server
                assert b"BEGIN CERTIFICATE" in response.read()
            path = url.split("/", 3)[-1]
            assert session.certificates.fetched(path) and not other.certificates.fetched(path)
        assert len(_server_threads() - before) == 2
        ports = [alpha.certificates.port, bravo.certificates.port]
    finally:
        alpha.close()
        bravo.close()
    assert not alpha.certificates.running and not bravo.certificates.running
    assert all(_refused(port) for port in ports)
    assert set(threading.enumerate()) <= before, "no server or request thread outlives its session"


def test_a_session_that_signs_no_sns_message_serves_nothing() -> None:
    with _session("plain", provider="github") as session:
        assert session.credentials.certificates is session.certificates
        assert not session.certificates.running
    assert not session.certificates.running
