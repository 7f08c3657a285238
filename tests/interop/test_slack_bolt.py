"""A Slack Bolt app (Flask adapter) as Bolt's getting-started docs build it: one listener, for app_mention.

Bolt answers 404 ("unhandled request") to any event type it has no listener for, which is right for Slack: Slack
delivers only the event types the app subscribes to. Bolt verifies with slack_sdk's SignatureVerifier, which calls
int() on X-Slack-Request-Timestamp and hmac.compare_digest on the signature str before anything else: a non-numeric,
empty or float timestamp, or a non-ASCII signature, raises, and Bolt answers 500 to requests anyone can send.
"""

from __future__ import annotations

import warnings

import pytest
from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult

from harness.credentials import Credentials
from harness.errors import HarnessWarning
from harness.transport.inprocess import InProcessTransport
from tests.interop._run import failures, run

SIGNING_SECRET = "interop-bolt-signing-secret"
mentions: list[str] = []


def authorize(enterprise_id, team_id, logger):  # type: ignore[no-untyped-def]
    """Bolt's documented custom authorize function (no network: a fixed bot token)."""
    return AuthorizeResult(
        enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-interop", bot_user_id="U0BOT", bot_id="B0BOT"
    )


app = App(signing_secret=SIGNING_SECRET, authorize=authorize)


@app.event("app_mention")
def handle_app_mentions(body, logger):  # type: ignore[no-untyped-def]
    mentions.append(body["event_id"])


flask_app = Flask(__name__)
handler = SlackRequestHandler(app)


@flask_app.route("/slack/events", methods=["POST"])
def slack_events():  # type: ignore[no-untyped-def]
    return handler.handle(request)


COMMON = {
    # provider-sends, subscribed: app_mention deliveries, redeliveries (with X-Slack-Retry-Num), the handshake.
    "redelivery-accepted": "passed",
    "handshake": "passed",  # Bolt echoes url_verification's challenge itself
    "no-server-error": "passed",
    "responds-in-time": "passed",
    # anyone-can-send: missing, wrong-key, tampered and stale requests are refused with 401 ...
    "rejects-missing-auth": "passed",
    "rejects-tampered-body": "passed",
    "rejects-stale-timestamp": "passed",
    # ... but malformed timestamps and a non-ASCII signature raise inside SignatureVerifier: 500 before verifying.
    "rejects-bad-auth": "failed",
    # and unsigned garbage with a malformed timestamp header is the same crash; signed garbage too (hygiene).
    "rejects-malformed": "failed",
    "handles-signed-malformed": "warned",
    "rejects-schema-violations": "warned",
    # not applicable: one secret, no probe, no reply format.
    "accepts-rotated-secret": "skipped",
    "single-effect": "skipped",
    "converges": "skipped",
    "reply-format": "skipped",
}


def test_without_event_the_unsubscribed_types_are_a_warning_not_a_failure() -> None:
    with InProcessTransport.for_wsgi(flask_app) as transport:
        statuses, result = run("slack", "http://testserver/slack/events", transport, Credentials(secret=SIGNING_SECRET))
    # message and reaction_added get 404 every time while app_mention gets 200: warned, naming them and --event.
    # A new, unknown event type gets 404 too: a warning (Slack sends only subscribed types).
    # verifies-raw-body's text pair is a message event here, refused alike with 404: a warning pointing there too.
    # The pass-through text goes into a message event too (app_mention's text has a fixed shape): refused alike.
    expected = {
        "accepts-valid": "warned",
        "accepts-unknown-fields": "warned",
        "verifies-raw-body": "warned",
        "accepts-pass-through": "warned",
        # The schema-invalid bodies break the first, middle and last of the default sample (message, group_unarchive,
        # scope_granted of the 61-type catalog): Bolt has no listener for them and answers 404. The run subscribed
        # to app_mention (below) is the one that shows Bolt taking a schema-invalid app_mention.
        "rejects-schema-violations": "passed",
    }
    assert statuses == {**COMMON, **expected}, failures(result)
    (finding,) = next(o for o in result.outcomes if o.check == "accepts-valid").violations
    assert "message (HTTP 404)" in finding.title and "reaction_added (HTTP 404)" in finding.title
    assert "--event app_mention" in finding.hint


def test_with_event_every_check_draws_from_the_subscription() -> None:
    with InProcessTransport.for_wsgi(flask_app) as transport:
        statuses, result = run(
            "slack",
            "http://testserver/slack/events",
            transport,
            Credentials(secret=SIGNING_SECRET),
            events=["app_mention"],
        )
    # app_mention's text has a fixed shape in the schema: no pass-through value fits, so that check is skipped.
    expected = {
        "accepts-valid": "passed",
        "accepts-unknown-fields": "warned",
        "verifies-raw-body": "passed",
        "accepts-pass-through": "skipped",
    }
    assert statuses == {**COMMON, **expected}, failures(result)
    crashed = next(o for o in result.outcomes if o.check == "rejects-bad-auth").violations[-1]
    assert "non-numeric timestamp" in crashed.title and "server error" in crashed.title


def test_an_unknown_event_type_is_a_warning() -> None:
    with InProcessTransport.for_wsgi(flask_app) as transport, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statuses, _ = run(
            "slack",
            "http://testserver/slack/events",
            transport,
            Credentials(secret=SIGNING_SECRET),
            events=["app_mention", "app_home_opened"],
            checks=["accepts-valid"],
        )
    assert statuses == {"accepts-valid": "passed"}
    (warning,) = [w for w in caught if issubclass(w.category, HarnessWarning)]
    assert "app_home_opened" in str(warning.message) and "known: message, app_mention" in str(warning.message)


@pytest.fixture(autouse=True)
def _no_bolt_noise():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
