"""Square signs the notification URL: the reference receiver checks the URL it was called on (or --public-url)."""

from __future__ import annotations

import pytest
import requests

from harness.cli import main
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.receiver import ReferenceReceiver
from harness.signing import sign_delivery
from tests.receiver._helpers import TIMEOUT, delivery, send

SECRET = "sq-signature-key-4hV2qXw9"
PUBLIC = "https://hooks.example.com/square/notifications?env=prod"


def _post(url: str, rx: ReferenceReceiver, signed_for: str, seed: int) -> int:
    signed = sign_delivery(rx.provider, delivery(rx.provider, seed=seed), rx.credentials, url=signed_for)
    reply = requests.post(url, data=signed.body, headers=dict(signed.headers), timeout=TIMEOUT, allow_redirects=False)
    return reply.status_code


def test_the_receiver_accepts_a_signature_over_its_own_url_and_refuses_one_over_another() -> None:
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET)) as rx:
        assert _post(rx.url, rx, rx.url, seed=1) == 200
        assert _post(rx.url, rx, rx.url + "?x=1", seed=2) == 401  # the query string is signed too
        assert _post(rx.url, rx, rx.url.replace("127.0.0.1", "localhost"), seed=3) == 401
        assert _post(rx.url + "?x=1", rx, rx.url + "?x=1", seed=4) == 200  # the URL as the request line names it


def test_behind_a_proxy_the_receiver_checks_the_public_url() -> None:
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET), public_url=PUBLIC) as rx:
        assert _post(rx.url, rx, PUBLIC, seed=5) == 200
        assert _post(rx.url, rx, rx.url, seed=6) == 401


def test_a_public_url_that_is_not_http_is_one_line() -> None:
    with pytest.raises(UsageError) as info:
        ReferenceReceiver("square", public_url="hooks.example.com/square")
    assert "--public-url" in str(info.value) and "\n" not in str(info.value)


def test_the_same_bytes_replayed_to_another_path_are_refused() -> None:
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET)) as rx:
        signed = sign_delivery(rx.provider, delivery(rx.provider, seed=7), rx.credentials, url=rx.url)
        assert send(rx, signed).status_code == 200
        other = rx.url.replace("/webhooks/square", "/webhooks/square/")
        reply = requests.post(other, data=signed.body, headers=dict(signed.headers), timeout=TIMEOUT)
        assert reply.status_code in (401, 404)


@pytest.mark.parametrize(("bug", "code"), [(None, 0), ("auth-optional", 1)])
def test_check_square_against_the_reference_receiver(
    bug: str | None, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceReceiver("square", credentials=Credentials(secret=SECRET), bug=bug) as rx:
        argv = ["check", "square", rx.url, "--secret", SECRET, "--probe-url", rx.probe_url, "--seed", "3"]
        assert main([*argv, "--max-examples", "4"]) == code
    out = capsys.readouterr().out
    assert SECRET not in out
    if bug:
        assert "rejects-missing-auth" in out and "FAILED" in out
    else:
        assert "accepts-valid" in out and "FAILED" not in out
