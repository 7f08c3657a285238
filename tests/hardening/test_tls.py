"""HTTPS staging receivers: --ca-bundle, --client-cert/--client-key, --insecure, and a preflight that completes the
TLS handshake, against the reference receiver served over TLS with a throw-away CA made here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.core.models import Delivery
from harness.net.options import NetworkOptions
from harness.receiver import ReferenceReceiver
from harness.transport import RequestsTransport
from harness.transport.aio import AioTransport
from tests.hardening._peers import Pki, make_pki

CHECK = ["--check", "accepts-valid", "--max-examples", "1", "--seed", "1"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_receiver(pki: Pki) -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver("slack", ssl_context=pki.server_context()) as rx:
        yield rx


@pytest.fixture
def mtls_receiver(pki: Pki) -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver("slack", ssl_context=pki.server_context(require_client_cert=True)) as rx:
        yield rx


def _check(rx: ReferenceReceiver, *extra: str) -> list[str]:
    assert rx.credentials.secret
    return ["check", "slack", rx.url, "--secret", rx.credentials.secret, *CHECK, *extra]


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, captured
    return lines[0]


def test_an_untrusted_certificate_exits_2_naming_ca_bundle(
    tls_receiver: ReferenceReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_line_exit_2(_check(tls_receiver), capsys)
    assert "certificate" in line and "--ca-bundle" in line


def test_the_ca_bundle_makes_the_receiver_trusted(
    tls_receiver: ReferenceReceiver, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_check(tls_receiver, "--ca-bundle", str(pki.ca))) == 0, capsys.readouterr()
    assert "accepts-valid" in capsys.readouterr().out


def test_insecure_skips_verification(tls_receiver: ReferenceReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_check(tls_receiver, "--insecure")) == 0, capsys.readouterr()


def test_the_config_file_keys_work_like_the_options(
    tls_receiver: ReferenceReceiver, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "webhook-harness.toml"
    config.write_text(f'ca_bundle = "{pki.ca}"\n[headers]\nX-Gateway = "staging"\n', encoding="utf-8")
    assert main([*_check(tls_receiver), "--config", str(config)]) == 0, capsys.readouterr()


def test_https_to_a_plain_http_port_exits_2_naming_the_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("slack") as rx:
        url = rx.url.replace("http://", "https://")
        assert rx.credentials.secret
        line = _one_line_exit_2(["check", "slack", url, "--secret", rx.credentials.secret, *CHECK], capsys)
    assert "does not speak TLS" in line and "http://" in line


def test_mutual_tls_needs_the_client_certificate(
    mtls_receiver: ReferenceReceiver, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_line_exit_2(_check(mtls_receiver, "--ca-bundle", str(pki.ca)), capsys)
    assert "--client-cert" in line
    with_cert = ["--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key)]
    assert main(_check(mtls_receiver, "--ca-bundle", str(pki.ca), *with_cert)) == 0, capsys.readouterr()


def test_the_volume_transport_uses_the_same_settings(tls_receiver: ReferenceReceiver, pki: Pki) -> None:
    delivery = Delivery("slack", "POST", {"Content-Type": "application/json"}, b"{}", (), ())
    with AioTransport(concurrency=1) as plain:
        refused = plain.send(delivery, tls_receiver.url, timeout=5)
    with AioTransport(concurrency=1, network=NetworkOptions(ca_bundle=str(pki.ca))) as trusting:
        answered = trusting.send(delivery, tls_receiver.url, timeout=5)
    assert refused.status == 0 and refused.error and "certificate" in refused.error
    assert answered.status >= 400  # unsigned: the receiver answered, refusing it


def test_send_over_https_and_a_tls_failure_is_exit_2(
    tls_receiver: ReferenceReceiver, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tls_receiver.credentials.secret
    argv = ["send", "slack", tls_receiver.url, "--secret", tls_receiver.credentials.secret, "--seed", "1"]
    line = _one_line_exit_2(argv, capsys)
    assert "--ca-bundle" in line
    assert main([*argv, "--ca-bundle", str(pki.ca)]) == 0, capsys.readouterr()
    assert "< HTTP 200" in capsys.readouterr().out


def test_bad_network_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["check", "slack", "https://127.0.0.1:9/x", "--secret", "s3cret"]
    assert "no such file" in _one_line_exit_2([*base, "--ca-bundle", str(tmp_path / "nope.pem")], capsys)
    assert "not both" in _one_line_exit_2([*base, "--ca-bundle", __file__, "--insecure"], capsys)
    assert "--client-cert" in _one_line_exit_2([*base, "--client-key", __file__], capsys)
    assert "Name: value" in _one_line_exit_2([*base, "--header", "no colon here"], capsys)
    assert "--proxy" in _one_line_exit_2([*base, "--proxy", "socks5://127.0.0.1:1080"], capsys)


def test_a_requests_transport_without_options_does_not_trust_a_private_ca(tls_receiver: ReferenceReceiver) -> None:
    delivery = Delivery("slack", "POST", {}, b"{}", (), ())
    reply = RequestsTransport().send(delivery, tls_receiver.url, timeout=5)
    assert reply.status == 0 and reply.error and "--ca-bundle" in reply.error


def test_a_receiver_dripping_its_tls_handshake_is_a_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.hardening._peers import raw_server

    def drip_handshake(conn: object, request: bytes, stop: object) -> None:
        for byte in b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + b"\x00" * 100:
            conn.sendall(bytes([byte]))  # type: ignore[attr-defined]
            if stop.wait(0.3):  # type: ignore[attr-defined]
                return

    from harness.errors import TransportError
    from harness.preflight import preflight

    with raw_server(drip_handshake, read_first=False) as peer:  # type: ignore[arg-type]
        url = peer.url.replace("http://", "https://") + "/hook"
        line = _one_line_exit_2(["check", "slack", url, "--secret", "s3cret-value", *CHECK], capsys)
        started = time.monotonic()
        with pytest.raises(TransportError, match="did not finish within 1s"):
            preflight(url, timeout=1.0)
        elapsed = time.monotonic() - started
    assert "TLS handshake did not finish within 5s" in line and elapsed < 3


def test_simulate_over_https_uses_the_same_options(
    tls_receiver: ReferenceReceiver, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tls_receiver.credentials.secret
    argv = ["simulate", "slack", tls_receiver.url, "--secret", tls_receiver.credentials.secret, "--events", "3"]
    line = _one_line_exit_2([*argv, "--quiet"], capsys)
    assert "--ca-bundle" in line
    assert main([*argv, "--quiet", "--ca-bundle", str(pki.ca)]) == 0, capsys.readouterr()
    assert "lost 0" in capsys.readouterr().out


def test_the_pytest_plugin_takes_the_same_tls_options(
    tls_receiver: ReferenceReceiver, pki: Pki, pytester: pytest.Pytester
) -> None:
    assert tls_receiver.credentials.secret
    args = ["--webhook-url", tls_receiver.url, "--webhook-provider", "slack", "--webhook-check", "accepts-valid"]
    args += ["--webhook-secret", tls_receiver.credentials.secret, "-p", "no:cacheprovider"]
    untrusted = pytester.runpytest_subprocess(*args)
    trusted = pytester.runpytest_subprocess(*args, "--webhook-ca-bundle", str(pki.ca), "--webhook-header", "X-Gw: 1")
    assert untrusted.ret != 0 and "--ca-bundle" in untrusted.stdout.str() + untrusted.stderr.str()
    assert trusted.ret == 0, trusted.stdout.str()
