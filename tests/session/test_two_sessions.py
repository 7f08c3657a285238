"""No process-wide state: two sessions in one process each use their own network options, tokens and secrets."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable

from harness.core.models import Delivery
from harness.engine.session import Session
from harness.settings.resolve import resolve_run_config
from harness.signing.oauth import token_client_for
from tests.hardening._peers import raw_server, respond


def _proxy(token: str) -> Callable[[socket.socket, bytes, threading.Event], None]:
    """A proxy that answers every request itself: a token for /token, 200 otherwise."""
    body = json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600}).encode()

    def answer(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        target = request.split(b" ", 2)[1]
        respond("200 OK", body if target.endswith(b"/token") else b"ok", {"Content-Type": "application/json"})(
            conn, request, stop
        )

    return answer


def test_two_sessions_in_one_process_keep_their_own_proxy_tokens_and_secrets() -> None:
    delivery = Delivery("sendgrid", "POST", {"Content-Type": "application/json"}, b"[]", ("processed",), ("k",))
    with raw_server(_proxy("token-of-alpha")) as proxy_a, raw_server(_proxy("token-of-bravo")) as proxy_b:
        sessions = {}
        for name, proxy in (("alpha", proxy_a), ("bravo", proxy_b)):
            options = {
                "provider": "sendgrid",
                "url": f"http://{name}.receiver.invalid/hook",
                "proxy": proxy.url,
                "token_url": f"http://{name}.tokens.invalid/token",
                "client_id": f"client-{name}",
                "client_secret": f"client-secret-of-{name}",
                "headers": [f"X-Gateway-Key: gateway-key-of-{name}"],
            }
            sessions[name] = Session(resolve_run_config(options, config={}, env={}))
        alpha, bravo = sessions["alpha"], sessions["bravo"]
        try:
            for session in (alpha, bravo):  # interleaved: a later session must not re-route an earlier one
                assert session.transport().send(delivery, session.config.url, timeout=5).status == 200
                provider = session.provider
                assert token_client_for(session.credentials, provider).token().startswith("token-of-")
        finally:
            alpha.close()
            bravo.close()
        assert [r.split(b" ", 2)[1] for r in proxy_a.requests] == [
            b"http://alpha.receiver.invalid/hook",
            b"http://alpha.tokens.invalid/token",
        ]
        assert all(b"gateway-key-of-alpha" in r for r in proxy_a.requests)
        assert [r.split(b" ", 2)[1] for r in proxy_b.requests] == [
            b"http://bravo.receiver.invalid/hook",
            b"http://bravo.tokens.invalid/token",
        ]
    assert token_client_for(alpha.credentials, alpha.provider).token() == "token-of-alpha"  # cached, per session
    text = " ".join(
        f"{kind}-of-{name}" for kind in ("client-secret", "gateway-key", "token") for name in ("alpha", "bravo")
    )
    assert alpha.redactor(text) == "*** client-secret-of-bravo *** gateway-key-of-bravo *** token-of-bravo", (
        "alpha hides its own secrets and fetched token, and only those"
    )
    assert bravo.redactor(text) == "client-secret-of-alpha *** gateway-key-of-alpha *** token-of-alpha ***"
