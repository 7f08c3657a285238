"""`send` and `keygen`: no secret reaches the terminal, even when the receiver echoes the request back."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.cli import main

CLIENT_SECRET = "oauth-client-secret-7d1e"
ACCESS_TOKEN = "issued-access-token-51c0ffee"


class _Echo(BaseHTTPRequestHandler):
    """Answers every webhook with its own request headers; also an ORDS-style token endpoint."""

    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.endswith("/oauth/token"):
            body = {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}
        else:
            # the credentials first, so they fall inside the printed excerpt
            body = {"authorization": self.headers.get("Authorization"), "received_headers": dict(self.headers.items())}
        data = json.dumps(body).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)  # shutdown waits a poll
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize(
    ("provider", "options", "secrets"),
    [
        ("github", ["--secret=gh-webhook-secret-123"], ["gh-webhook-secret-123"]),
        ("stripe", ["--secret=whsec_c3RyaXBlLXNlY3JldA=="], ["whsec_c3RyaXBlLXNlY3JldA==", "c3RyaXBlLXNlY3JldA=="]),
        ("oci", ["--basic=notify:oci-password-9f"], ["oci-password-9f", "bm90aWZ5Om9jaS1wYXNzd29yZC05Zg=="]),
        ("github", ["--bearer=static-bearer-token-44"], ["static-bearer-token-44"]),
    ],
)
def test_send_output_never_shows_a_secret(
    echo: str,
    provider: str,
    options: list[str],
    secrets: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["send", provider, f"{echo}/hook", *options]
    if "--bearer" in options[0]:
        config = tmp_path / "webhook-harness.toml"
        config.write_text('[providers.github.auth]\nschemes = ["bearer"]\n')
        argv += ["--config", str(config)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "< HTTP 200" in out and '{"authorization": ' in out  # the echo was printed
    for secret in secrets:
        assert secret not in out


def test_send_with_oauth_hides_client_secret_and_access_token(echo: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "send",
        "sendgrid",
        f"{echo}/hook",
        f"--token-url={echo}/ords/webhook/oauth/token",
        "--client-id=harness",
        f"--client-secret={CLIENT_SECRET}",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "> Authorization: Bearer ***" in out and "received_headers" in out
    assert CLIENT_SECRET not in out and ACCESS_TOKEN not in out


def test_send_to_a_closed_port_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(["send", "github", f"http://127.0.0.1:{port}/hook", "--secret=s3cret-value"]))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Cannot reach" in err and "s3cret-value" not in err


def test_send_non_2xx_exits_1(echo: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Echo, "status", 401)
    assert main(["send", "github", f"{echo}/hook", "--secret=s3cret-value"]) == 1
    assert "< HTTP 401" in capsys.readouterr().out


def test_keygen_force_replaces_and_bad_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "sg.pem"
    assert main(["keygen", "sendgrid", "--out", str(key)]) == 0
    first = key.read_bytes()
    assert main(["keygen", "sendgrid", "--out", str(key)]) == 2
    assert key.read_bytes() == first  # refused: untouched
    assert main(["keygen", "sendgrid", "--out", str(key), "--force"]) == 0
    assert key.read_bytes() != first and key.stat().st_mode & 0o777 == 0o600
    out = capsys.readouterr().out
    assert "PRIVATE KEY" not in out  # only the public half is printed
    assert main(["keygen", "sendgrid", "--out", str(tmp_path / "missing" / "k.pem")]) == 2
    assert "Cannot write" in capsys.readouterr().err
