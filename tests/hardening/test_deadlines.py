"""Every wait on a peer is bounded overall: a receiver, token endpoint or probe that drips bytes cannot hang us."""

from __future__ import annotations

import time

import pytest

from harness.core.models import Delivery
from harness.errors import ConfigError, TokenError
from harness.probes.counts import HttpProbe
from harness.signing import TokenClient
from harness.transport import RequestsTransport
from tests.hardening._peers import drip, raw_server

DELIVERY = Delivery("github", "POST", {"Content-Type": "application/json"}, b"{}", ("ping",), ("k",))
STATUS_LINE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
HEADERS = b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"a" * 200 + b"\r\n\r\n"


@pytest.mark.parametrize("data", [STATUS_LINE, HEADERS], ids=["status-line", "headers"])
def test_a_receiver_dripping_its_head_times_out_by_the_deadline(data: bytes) -> None:
    with raw_server(drip(data, every=0.2)) as peer:
        started = time.monotonic()
        reply = RequestsTransport().send(DELIVERY, peer.url + "/hook", timeout=1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert reply.status == 0 and reply.error and "timed out" in reply.error


def test_a_dripping_token_endpoint_is_a_one_line_error_by_the_deadline() -> None:
    body = b'{"access_token": "abc", "expires_in": 3600}'
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with raw_server(drip(head + body, every=0.2)) as peer:
        client = TokenClient(peer.url + "/token", "id", "secret-value", timeout=1.0)
        started = time.monotonic()
        with pytest.raises(TokenError, match="did not answer within 1s"):
            client.token()
        elapsed = time.monotonic() - started
    assert elapsed < 2.0


def test_a_dripping_http_probe_is_a_one_line_error_by_the_deadline() -> None:
    with raw_server(drip(STATUS_LINE, every=0.2)) as peer:
        probe = HttpProbe(peer.url + "/probe/{event_id}", timeout=1.0)
        started = time.monotonic()
        with pytest.raises(ConfigError, match="did not answer within 1s"):
            probe.count("evt")
        elapsed = time.monotonic() - started
    assert elapsed < 2.0


def test_check_against_a_dripping_receiver_ends_with_a_finding() -> None:
    from harness.credentials import Credentials
    from harness.engine.runner import RunConfig, run_checks

    with raw_server(drip(STATUS_LINE, every=0.3)) as peer:
        started = time.monotonic()
        result = run_checks(
            RunConfig(
                "shopify",  # signs like GitHub from 4 event types (not 259 to compile): the deadline is the subject
                peer.url + "/hook",
                Credentials(secret="s3cret"),
                timeout=0.5,
                max_examples=1,
                checks=["accepts-valid"],
            )
        )
        elapsed = time.monotonic() - started
        sent = len(peer.requests)
    assert elapsed < sent * 2 + 3  # each request ends by its deadline (twice the 0.5 s timeout) plus a margin
    assert result.exit_code == 1
    assert "timed out" in str(result.outcomes[0].violations[0].received)
