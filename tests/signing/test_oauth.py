"""The OAuth client-credentials client: placement, caching until expires_in, refetch, and failures as TokenError."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests
import responses

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.errors import HarnessError, TokenError
from harness.receiver import ReferenceReceiver
from harness.signing import applicable_variants, forge_delivery, sign_delivery
from harness.signing.oauth import TokenClient

TOKEN_URL = "https://db.example.test/ords/webhook/oauth/token"
CLIENT_ID = "harness-client"
SECRET = "client-secret-3f9a1c77"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _ords_tokens(mock: responses.RequestsMock, lifetime: int = 3600) -> None:
    """An ORDS-shaped endpoint issuing tok-1, tok-2, ... in turn."""
    issued = iter(range(1, 100))

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        n = next(issued)
        return (
            200,
            {"Content-Type": "application/json"},
            (f'{{"access_token":"tok-{n}","token_type":"bearer","expires_in":{lifetime}}}'),
        )

    mock.add_callback(responses.POST, TOKEN_URL, callback=answer)


def _form(request: requests.PreparedRequest) -> dict[str, list[str]]:
    body = request.body
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    return parse_qs(text)


def test_token_is_cached_until_expires_in_then_refetched(mocked: responses.RequestsMock) -> None:
    _ords_tokens(mocked, lifetime=3600)
    clock = Clock()
    client = TokenClient(TOKEN_URL, CLIENT_ID, SECRET, clock=clock)
    assert client.token() == "tok-1"
    clock.now += 3000
    assert client.token() == "tok-1" and len(mocked.calls) == 1  # still within its lifetime: no new request
    clock.now += 600  # past expires_in
    assert client.token() == "tok-2" and len(mocked.calls) == 2
    assert client.expired_token() == "tok-1"


def test_credentials_go_in_http_basic_by_default(mocked: responses.RequestsMock) -> None:
    _ords_tokens(mocked)
    TokenClient(TOKEN_URL, CLIENT_ID, SECRET, clock=Clock()).token()
    request = mocked.calls[0].request
    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == expected
    assert _form(request) == {"grant_type": ["client_credentials"]}


def test_form_placement_sends_client_id_and_secret_as_fields(mocked: responses.RequestsMock) -> None:
    _ords_tokens(mocked)
    TokenClient(TOKEN_URL, CLIENT_ID, SECRET, credentials_in="form", scope="events", clock=Clock()).token()
    request = mocked.calls[0].request
    assert "Authorization" not in request.headers
    assert _form(request) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "scope": ["events"],
    }


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (401, '{"error":"invalid_client","client_secret":"' + SECRET + '"}', "HTTP 401"),
        (200, "<html>ORDS error page</html>", "not JSON"),
        (200, '{"token_type":"bearer"}', "without an access_token"),
        (200, '{"access_token":"t","token_type":"mac"}', "'mac'"),
        (500, "Internal error", "HTTP 500"),
    ],
)
def test_bad_answers_raise_token_error_naming_the_url(
    mocked: responses.RequestsMock, status: int, body: str, needle: str
) -> None:
    mocked.add(responses.POST, TOKEN_URL, status=status, body=body)
    with pytest.raises(TokenError) as info:
        TokenClient(TOKEN_URL, CLIENT_ID, SECRET, clock=Clock()).token()
    message = str(info.value)
    assert TOKEN_URL in message and needle in message
    assert SECRET not in message and "\n" not in message
    assert isinstance(info.value, HarnessError)


def test_timeout_raises_token_error(mocked: responses.RequestsMock) -> None:
    mocked.add(responses.POST, TOKEN_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(TokenError, match="did not answer within 2s") as info:
        TokenClient(TOKEN_URL, CLIENT_ID, SECRET, clock=Clock(), timeout=2).token()
    assert TOKEN_URL in str(info.value) and SECRET not in str(info.value)


def test_refused_connection_raises_token_error() -> None:
    with socket.socket() as sock:  # a port that was just free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ords/webhook/oauth/token"
    with pytest.raises(TokenError, match="cannot be reached") as info:
        TokenClient(url, CLIENT_ID, SECRET, timeout=2).token()
    assert url in str(info.value) and SECRET not in str(info.value)


def test_failed_refresh_raises_and_a_later_call_retries(mocked: responses.RequestsMock) -> None:
    clock = Clock()
    mocked.add(responses.POST, TOKEN_URL, json={"access_token": "tok-1", "token_type": "bearer", "expires_in": 60})
    client = TokenClient(TOKEN_URL, CLIENT_ID, SECRET, clock=clock)
    assert client.token() == "tok-1"
    clock.now += 120
    mocked.replace(responses.POST, TOKEN_URL, status=503, body="maintenance")
    with pytest.raises(TokenError, match="HTTP 503"):
        client.token()
    mocked.replace(responses.POST, TOKEN_URL, json={"access_token": "tok-2", "token_type": "bearer"})
    assert client.token() == "tok-2"  # no expires_in: the documented default lifetime applies


def _oauth_only(receiver: ReferenceReceiver) -> Credentials:
    c = receiver.credentials
    return Credentials(token_url=c.token_url, client_id=c.client_id, client_secret=c.client_secret)


def _sample(provider_id: str) -> tuple[Provider, Delivery]:
    from harness.deliveries import build_delivery

    provider = load_catalog().get(provider_id)
    event = provider.ordinary_events[0]
    return provider, build_delivery(provider, [provider.events[event].samples[0]], event_types=[event])


def test_oauth_scheme_against_an_ords_style_endpoint() -> None:
    """sign_delivery fetches a token from the receiver's /ords/<schema>/oauth/token; every variant is refused."""
    from harness.transport import RequestsTransport

    provider, unsigned = _sample("sendgrid")
    with ReferenceReceiver("sendgrid") as receiver:
        creds = _oauth_only(receiver)
        assert creds.token_url and "/ords/" in creds.token_url
        transport = RequestsTransport()
        signed = sign_delivery(provider, unsigned, creds)
        assert (signed.header("Authorization") or "").startswith("Bearer ")
        # The receiver also wants SendGrid's ECDSA signature: sign with both, as SendGrid does.
        both = sign_delivery(provider, unsigned, receiver.credentials)
        assert transport.send(both, receiver.url, timeout=5).ok
        variants = applicable_variants(provider, receiver.credentials)
        assert "expired-token" in variants
        for variant in variants:
            forged = forge_delivery(provider, unsigned, receiver.credentials, variant)
            assert forged is not None and forged.label == variant
            assert transport.send(forged, receiver.url, timeout=5).status in (401, 403), variant


def test_expired_token_variant_replays_a_token_the_client_saw_expire(mocked: responses.RequestsMock) -> None:
    _ords_tokens(mocked, lifetime=0)  # every token is stale as soon as it is issued
    provider, unsigned = _sample("sendgrid")
    creds = Credentials(token_url=TOKEN_URL, client_id="expiring-client", client_secret=SECRET)
    first = sign_delivery(provider, unsigned, creds)
    second = sign_delivery(provider, unsigned, creds)
    assert first.header("Authorization") != second.header("Authorization")
    forged = forge_delivery(provider, unsigned, creds, "expired-token")
    assert forged is not None
    assert forged.header("Authorization") in (first.header("Authorization"), second.header("Authorization"))
