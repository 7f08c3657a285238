"""What the schemes share: key loading (one set of one-line errors), the loopback server, credentials in a body."""

from __future__ import annotations

import socket
import stat
import threading
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.catalog import load_catalog
from harness.credentials import Credentials
from harness.errors import ConfigError, UsageError
from harness.signing import verifiers
from harness.signing._serve import LoopbackServer
from harness.signing._x509 import load_rsa_key
from harness.signing.keys import (
    ed25519_private_key,
    load_private_key,
    private_pem,
    rsa_private_key,
    write_private_key,
)

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
NOT_PEM = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("load", "hint"),
    [
        (load_private_key, " (make one with: webhook-harness keygen sendgrid)."),
        (rsa_private_key, " (make one with: webhook-harness keygen gcp-pubsub)."),
        (load_rsa_key, " (make one with: webhook-harness keygen aws-sns)."),
        (ed25519_private_key, "."),
    ],
)
def test_every_private_key_loader_says_the_same_one_line_without_quoting_the_key(load: object, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(NOT_PEM)  # type: ignore[operator]
    message = str(info.value)
    assert message == "the signing key given as PEM text is not an unencrypted PEM private key" + hint
    assert "bm90IGEga2V5" not in message


@pytest.mark.parametrize("load", [load_private_key, rsa_private_key, load_rsa_key])
def test_an_unreadable_key_file_is_one_line(load: object, tmp_path: Path) -> None:
    absent = tmp_path / "absent.pem"
    with pytest.raises(ConfigError) as info:
        load(str(absent))  # type: ignore[operator]
    assert str(info.value).startswith(f"Cannot read the signing key {str(absent)!r}: ") and "\n" not in str(info.value)


def test_a_key_of_another_type_names_what_needs_it() -> None:
    text = private_pem(Ed25519PrivateKey.generate()).decode()
    with pytest.raises(ConfigError, match="is not an RSA private key, which SNS's signature needs"):
        load_rsa_key(text)
    with pytest.raises(ConfigError, match="is not an RSA private key, which an RS256 token needs"):
        rsa_private_key(text)
    with pytest.raises(ConfigError, match="is not an EC P-256 private key"):
        load_private_key(text)
    assert ed25519_private_key(text).public_key() is not None  # the Ed25519 loader reads the PEM it was given


def test_a_written_key_is_private_to_its_owner_never_overwritten_and_reads_back(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = write_private_key(tmp_path / "key.pem", key)
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    assert private_pem(ed25519_private_key(path)) == private_pem(key)
    with pytest.raises(FileExistsError):
        write_private_key(tmp_path / "key.pem", Ed25519PrivateKey.generate())


def _assert_closed(port: int) -> None:
    with pytest.raises(OSError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_the_loopback_server_answers_its_route_and_stops_with_every_thread() -> None:
    before = set(threading.enumerate())
    seen: list[str] = []

    def route(path: str) -> tuple[int, bytes, dict[str, str]]:
        seen.append(path)
        return (200, b"hello", {"X-Kind": "test"}) if path.startswith("/doc") else (404, b"no", {})

    server = LoopbackServer(route, name="test-loopback")
    server.start()
    try:
        with _DIRECT.open(f"http://127.0.0.1:{server.port}/doc?x=1", timeout=5) as response:
            assert (response.status, response.read(), response.headers["X-Kind"]) == (200, b"hello", "test")
        with pytest.raises(urllib.error.HTTPError) as info:
            _DIRECT.open(f"http://127.0.0.1:{server.port}/other", timeout=5)
        assert info.value.code == 404
        info.value.close()
    finally:
        server.close()
    assert seen == ["/doc?x=1", "/other"]
    _assert_closed(server.port)
    assert set(threading.enumerate()) <= before, "no server or request thread outlives close()"
    server.close()  # a second close does nothing


def test_a_loopback_server_on_a_port_in_use_is_one_line_and_one_never_started_closes() -> None:
    first = LoopbackServer(lambda path: (200, b"", {}))
    try:
        with pytest.raises(UsageError) as info:
            LoopbackServer(lambda path: (200, b"", {}), port=first.port, what="the test documents")
        message = str(info.value)
        assert (
            message.startswith(f"Cannot serve the test documents on 127.0.0.1:{first.port}: ") and "\n" not in message
        )
    finally:
        first.close()  # never started: only its socket to close
    _assert_closed(first.port)


def test_graphs_client_state_is_present_only_when_the_body_names_it() -> None:
    provider = load_catalog().get("msgraph")
    (check,) = verifiers(provider, Credentials(secret="state-123"), lambda token: False)
    named = b'{"value": [{"clientState": "other"}]}'
    assert check.present({}, named)
    assert not check.present({}, b'{"value": [{}]}')
    assert not check.present({"(body) clientState": "clientState"}, b'{"value": [{}]}')  # no header can stand in
    assert check.reason({}, named) == "clientState does not match"
    assert check.reason({}, b'{"value": [{"clientState": "state-123"}]}') is None
