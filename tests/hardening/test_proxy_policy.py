"""One proxy policy for all traffic: environment proxies are ignored unless trust_env; an explicit proxy carries
deliveries, token requests and HTTP probes alike."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from harness.core.models import Delivery
from harness.net.options import NetworkOptions
from harness.probes.counts import HttpProbe
from harness.signing import TokenClient
from harness.transport import RequestsTransport
from harness.transport.aio import AioTransport
from tests.hardening._peers import Peer, raw_server, respond

DELIVERY = Delivery("github", "POST", {"Content-Type": "application/json"}, b"{}", ("ping",), ("k",))
TOKEN = json.dumps({"access_token": "tok-proxy-test", "token_type": "bearer", "expires_in": 3600}).encode()


def _answer(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
    """Token JSON for a token path, a count for a probe path, 200 otherwise (as origin or as proxy alike)."""
    target = request.split(b" ", 2)[1]
    body = TOKEN if target.endswith(b"/token") else b"1" if b"/probe/" in target else b"ok"
    respond("200 OK", body, {"Content-Type": "application/json"})(conn, request, stop)


@pytest.fixture
def origin() -> Iterator[Peer]:
    with raw_server(_answer) as peer:
        yield peer


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    """A recording proxy, also named by HTTP_PROXY/HTTPS_PROXY in the environment."""
    with raw_server(_answer) as peer:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, peer.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield peer


def _all_traffic(origin: Peer, network: NetworkOptions) -> None:
    assert RequestsTransport(network=network).send(DELIVERY, origin.url + "/hook", timeout=5).status == 200
    with AioTransport(concurrency=1, network=network) as aio:
        assert aio.send(DELIVERY, origin.url + "/hook", timeout=5).status == 200
    assert TokenClient(origin.url + "/token", "id", "client-secret", network=network).token() == "tok-proxy-test"
    assert HttpProbe(origin.url + "/probe/{event_id}", network=network).count("evt") == 1


def test_environment_proxies_are_ignored_by_default(origin: Peer, proxy: Peer) -> None:
    _all_traffic(origin, NetworkOptions())
    assert proxy.requests == [] and len(origin.requests) == 4


@pytest.mark.parametrize("how", ["explicit", "trust-env"])
def test_a_chosen_proxy_carries_every_kind_of_request(origin: Peer, proxy: Peer, how: str) -> None:
    network = NetworkOptions(proxy=proxy.url) if how == "explicit" else NetworkOptions(trust_env=True)
    _all_traffic(origin, network)
    targets = sorted(request.split(b" ", 2)[1].decode() for request in proxy.requests)
    assert origin.requests == []
    assert targets == sorted(
        [origin.url + "/hook", origin.url + "/hook", origin.url + "/token", origin.url + "/probe/evt"]
    )
