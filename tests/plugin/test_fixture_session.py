"""The webhook fixture runs through one Session: credentials refused as the CLI does, network options, transports."""

from __future__ import annotations

from typing import Any

import pytest

from harness import Credentials, InProcessTransport
from harness.pytest_plugin._fixture import Webhook
from harness.settings.resolve import resolve_run_config


def _lifespan_app(events: list[str]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    events.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    events.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = dict(scope["headers"])
        events.append(headers.get(b"x-gateway", b"-").decode())
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def test_send_without_credentials_is_a_usage_error_not_an_unsigned_delivery() -> None:
    events: list[str] = []
    webhook = Webhook("github", "http://testserver/hook", transport=InProcessTransport.for_asgi(_lifespan_app(events)))
    try:
        with pytest.raises(pytest.UsageError, match=r"--secret \(or WEBHOOK_HARNESS_SECRET\)"):
            webhook.send("push")
    finally:
        webhook.close()
    assert "-" not in events  # nothing reached the app


def test_a_handed_asgi_transport_is_closed_when_the_fixture_ends() -> None:
    events: list[str] = []
    settings = resolve_run_config({"timeout": "5s"}, config={}, env={}, require_target=False)
    transport = InProcessTransport.for_asgi(_lifespan_app(events))
    webhook = Webhook("github", "http://testserver/hook", Credentials(secret="s3cret"), settings=settings)
    webhook.configure(transport=transport)
    assert webhook.send("push").status == 204
    webhook.close()
    assert events == ["startup", "-", "shutdown"], events


def test_send_takes_the_settings_network_options() -> None:
    from tests.hardening._peers import raw_server, respond

    with raw_server(respond("200 OK", b"ok")) as receiver:
        options = {"headers": ["X-Gateway: from-settings"], "timeout": "5s"}
        settings = resolve_run_config(options, config={}, env={}, require_target=False)
        webhook = Webhook("github", receiver.url + "/hook", Credentials(secret="s3cret"), settings=settings)
        try:
            assert webhook.send("push").status == 200
        finally:
            webhook.close()
    assert b"\r\nX-Gateway: from-settings\r\n" in receiver.requests[0]


def test_check_and_send_share_the_fixtures_one_session() -> None:
    events: list[str] = []
    transport = InProcessTransport.for_asgi(_lifespan_app(events))
    webhook = Webhook("github", "http://testserver/hook", Credentials(secret="s3cret"), transport=transport)
    try:
        assert webhook.send("push").status == 204
        session = webhook.session()
        assert webhook.check("accepts-valid").status == "passed"
        assert webhook.session() is session and session.context().exchanges  # the check ran in it
    finally:
        webhook.close()
    assert events[0] == "startup" and events[-1] == "shutdown"
