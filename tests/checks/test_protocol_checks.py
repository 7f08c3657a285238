"""handshake (Slack challenge, OCI confirmation GET on our loopback callback) and reply-format (Teams)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from harness.checks import CheckOutcome
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.engine.runner import RunConfig, run_check
from tests.checks._fakes import CATALOG, FakeTransport

CREDENTIALS = {
    "slack": Credentials(secret="slack-signing-secret-x1"),
    "oci": Credentials(basic=("harness", "oci-password-x1")),
    "teams": Credentials(secret=base64.b64encode(b"teams-token-bytes-x1").decode()),
}


def _run(provider: str, check_id: str, handler: Callable[[Delivery], Reply], **kw: Any) -> CheckOutcome:
    config = RunConfig(
        provider,
        "http://127.0.0.1:9/hook",
        CREDENTIALS[provider],
        catalog=CATALOG,
        transport=FakeTransport(handler),
        seed=3,
        **kw,
    )
    return run_check(config, check_id)


def _payload(delivery: Delivery) -> Any:
    return json.loads(delivery.body)


@pytest.mark.parametrize("style", ["text", "json"])
def test_slack_challenge_echoed_as_text_or_json_passes(style: str) -> None:
    def echo(delivery: Delivery) -> Reply:
        challenge = _payload(delivery)["challenge"]
        body = challenge if style == "text" else json.dumps({"challenge": challenge})
        return Reply(200, body=body.encode())

    assert _run("slack", "handshake", echo).status == "passed"


@pytest.mark.parametrize(
    "reply", [Reply(200, body=b"ok"), Reply(200, body=b'{"challenge": "something else"}'), Reply(401)]
)
def test_slack_challenge_not_echoed_fails(reply: Reply) -> None:
    outcome = _run("slack", "handshake", lambda delivery: reply)
    (violation,) = outcome.violations
    assert outcome.status == "failed" and "challenge" in violation.title


def _confirming(status: int) -> Callable[[Delivery], Reply]:
    def confirm(delivery: Delivery) -> Reply:
        url = _payload(delivery)["ConfirmationURL"]
        assert url.startswith("http://127.0.0.1:") and delivery.header("X-OCI-NS-ConfirmationURL") == url
        requests.get(url, timeout=5)
        return Reply(status)

    return confirm


def test_oci_confirmation_url_fetched_passes() -> None:
    assert _run("oci", "handshake", _confirming(200)).status == "passed"


def test_oci_confirmation_ignored_fails_quickly() -> None:
    outcome = _run("oci", "handshake", lambda delivery: Reply(200), timeout=0.3)
    (violation,) = outcome.violations
    assert "was not fetched" in violation.title and outcome.duration < 5


def test_oci_confirmation_fetched_but_answered_500_fails() -> None:
    (violation,) = _run("oci", "handshake", _confirming(500)).violations
    assert "got no 2xx" in violation.title


@pytest.mark.parametrize("provider", ["github", "stripe", "jira", "shopify"])
def test_handshake_and_reply_format_are_skipped_elsewhere(provider: str) -> None:
    credentials = Credentials(secret="whsec_abc123" if provider == "stripe" else "abc123")
    config = RunConfig(provider, "http://127.0.0.1:9/", credentials, catalog=CATALOG, transport=FakeTransport(Reply))
    for check_id in ("handshake", "reply-format"):
        assert run_check(config, check_id).status == "skipped"


def test_teams_valid_message_reply_passes() -> None:
    message = {"type": "message", "text": "Got it"}
    assert _run("teams", "reply-format", lambda d: Reply(200, body=json.dumps(message).encode())).status == "passed"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(200, body=b'{"ok": true}'), "type"),
        (Reply(200, body=b"Got it"), "not JSON"),
        (Reply(500, body=b'{"type": "message", "text": "x"}'), "answer 2xx"),
    ],
)
def test_teams_invalid_reply_fails(reply: Reply, why: str) -> None:
    (violation,) = _run("teams", "reply-format", lambda d: reply).violations
    assert why in violation.hint
