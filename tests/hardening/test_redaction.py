"""No secret in any output channel: fetched OAuth tokens a receiver echoes, send's response headers, a URL password's
Basic form, token-endpoint errors; and no terminal escape from a peer reaches the terminal."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import TokenError
from harness.signing import TokenClient
from tests.hardening._peers import raw_server, respond

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[32m13 passed\x1b[0m"


def _echo_authorization(token: str) -> object:
    """A token endpoint at /token issuing ``token``; anywhere else, a 500 that echoes the Authorization header."""

    def handler(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        head = request.split(b"\r\n\r\n")[0].decode("latin-1")
        if head.split(" ")[1].endswith("/token"):
            body = json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600}).encode()
            respond("200 OK", body, {"Content-Type": "application/json"})(conn, request, stop)
            return
        seen = [
            line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("authorization")
        ]
        echoed = f"refused, you sent {seen[0] if seen else 'nothing'} / {seen[0].split(' ')[-1] if seen else ''}"
        respond("500 Internal Server Error", echoed.encode(), {"X-Seen-Credential": seen[0] if seen else "-"})(
            conn, request, stop
        )

    return handler


def test_a_fetched_token_echoed_by_the_receiver_is_redacted_in_check_output_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "tok-" + secrets.token_hex(16)
    report = tmp_path / "report.json"
    with raw_server(_echo_authorization(token)) as peer:  # type: ignore[arg-type]
        code = main(
            [
                "check",
                "sendgrid",
                peer.url + "/hook",
                "--token-url",
                peer.url + "/token",
                "--client-id",
                "harness",
                "--client-secret",
                "client-secret-value",
                "--check",
                "accepts-valid",
                "--max-examples",
                "1",
                "--report",
                str(report),
            ]
        )
    captured = capsys.readouterr()
    assert code == 1
    assert any(token.encode() in request for request in peer.requests)  # it was really sent and echoed
    for channel in (captured.out, captured.err, report.read_text("utf-8")):
        assert token not in channel and "client-secret-value" not in channel
    assert "***" in captured.out


def test_a_url_password_and_its_basic_form_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    password = "pw-" + secrets.token_hex(8)
    basic = base64.b64encode(f"alice:{password}".encode()).decode()
    with raw_server(_echo_authorization("unused")) as peer:  # type: ignore[arg-type]
        url = peer.url.replace("http://", f"http://alice:{password}@") + "/hook"
        code = main(["check", "oci", url, "--check", "accepts-valid"])
    captured = capsys.readouterr()
    assert code == 1
    assert any(basic.encode() in request for request in peer.requests)
    for channel in (captured.out, captured.err):
        assert password not in channel and basic not in channel


def test_send_redacts_response_headers(capsys: pytest.CaptureFixture[str]) -> None:
    cookie = "session=" + secrets.token_hex(8)
    headers = {"Set-Cookie": cookie, "X-Api-Key": "key-" + secrets.token_hex(4), "X-Plain": "visible"}
    with raw_server(respond("200 OK", b"ok", headers)) as peer:
        assert main(["send", "github", peer.url + "/hook", "--secret", "s3cret-value", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert cookie not in out and headers["X-Api-Key"] not in out
    assert "< Set-Cookie: ***" in out and "< X-Plain: visible" in out


def test_send_redacts_an_echoed_secret_in_headers(capsys: pytest.CaptureFixture[str]) -> None:
    token = "tok-" + secrets.token_hex(16)
    with raw_server(_echo_authorization(token)) as peer:  # type: ignore[arg-type]
        argv = ["send", "sendgrid", peer.url + "/hook", "--token-url", peer.url + "/token", "--client-id", "x"]
        assert main([*argv, "--client-secret", "client-secret-value", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert token not in out and "X-Seen-Credential: ***" in out


def test_a_secret_looking_gateway_header_is_sent_but_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    key = "gw-" + secrets.token_hex(8)
    with raw_server(respond("200 OK", key.encode())) as peer:
        argv = ["send", "github", peer.url + "/hook", "--secret", "s3cret-value", "--seed", "1"]
        assert main([*argv, "--header", f"X-Gateway-Key: {key}", "--header", "X-Env: staging"]) == 0
    out = capsys.readouterr().out
    assert f"X-Gateway-Key: {key}".encode() in peer.requests[0] and b"X-Env: staging" in peer.requests[0]
    assert key not in out and "> X-Env: staging" in out


@pytest.mark.parametrize("status", ["400 Bad Request", "200 OK"])
def test_token_endpoint_errors_never_quote_the_token(status: str) -> None:
    token = "tok-" + secrets.token_hex(16)
    body = json.dumps({"access_token": token, "token_type": "mac", "error": "invalid_scope"}).encode()
    with raw_server(respond(status, body, {"Content-Type": "application/json"})) as peer:
        with pytest.raises(TokenError) as info:
            TokenClient(peer.url + "/token", "id", "client-secret-value", timeout=5).token()
    assert token not in str(info.value) and "client-secret-value" not in str(info.value)


def test_terminal_escapes_from_a_receiver_are_shown_not_obeyed(capsys: pytest.CaptureFixture[str]) -> None:
    handler = respond("500 Internal Server Error", ESCAPES.encode(), {"X-Note": "\x1b[2Jcleared"})
    with raw_server(handler) as peer:
        assert (
            main(["check", "github", peer.url + "/hook", "--secret", "s3cret-value", "--check", "accepts-valid"]) == 1
        )
        check_out = capsys.readouterr().out
        assert main(["send", "github", peer.url + "/hook", "--secret", "s3cret-value", "--seed", "1"]) == 1
        send_out = capsys.readouterr().out
    for out in (check_out, send_out):
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b]0;pwned" in out


def test_a_fetched_token_echoed_by_the_receiver_is_redacted_by_the_plugin_and_its_junit_xml(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.credentials import ENV_VARS

    token = "tok-" + secrets.token_hex(16)
    with raw_server(_echo_authorization(token)) as peer:  # type: ignore[arg-type]
        monkeypatch.setenv(ENV_VARS["token_url"], peer.url + "/token")
        monkeypatch.setenv(ENV_VARS["client_id"], "harness")
        monkeypatch.setenv(ENV_VARS["client_secret"], "client-secret-value")
        result = pytester.runpytest(
            "--webhook-url",
            peer.url + "/hook",
            "--webhook-provider",
            "sendgrid",
            "--webhook-max-examples",
            "1",
            "-k",
            "accepts-valid",
            "-p",
            "no:cacheprovider",
            "--junitxml=report.xml",
        )
        sent = any(token.encode() in request for request in peer.requests)
    xml_text = (pytester.path / "report.xml").read_text()
    assert sent and result.ret == 1
    for channel in (result.stdout.str(), result.stderr.str(), xml_text):
        assert token not in channel and "client-secret-value" not in channel
