"""The runner's plan and errors, the terminal and JSON reports, and curl repros that replay byte for byte."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.checks import ordered_ids
from harness.core.models import Delivery
from harness.credentials import Credentials, Redactor
from harness.engine.runner import RunConfig, plan, run_check, run_checks
from harness.errors import TransportError, UsageError
from harness.report import curl_command, redact_url, render_failures, render_outcome, render_summary, to_json
from tests.checks._fakes import CATALOG, SECRET, FakeReceiver


def test_plan_is_stable_and_honours_check_and_exclude() -> None:
    assert plan(FakeReceiver("github").config()) == ordered_ids()
    config = FakeReceiver("github").config(
        checks=["single-effect", "accepts-valid", "handshake"], exclude_checks=["handshake"]
    )
    assert plan(config) == ["accepts-valid", "single-effect"]  # run order, not the order given


@pytest.mark.parametrize("field", ["checks", "exclude_checks"])
def test_an_unknown_check_is_a_usage_error_listing_the_known_ones(field: str) -> None:
    config = FakeReceiver("github").config(**{field: ["accepts-everything"]})
    with pytest.raises(UsageError, match=r"Unknown check 'accepts-everything'\. Known: accepts-valid, "):
        plan(config)
    with pytest.raises(UsageError, match="Unknown check"):
        run_check(config, "accepts-everything")


def test_no_credentials_is_a_usage_error() -> None:
    config = RunConfig("github", "http://127.0.0.1:9/", Credentials(), catalog=CATALOG)
    with pytest.raises(UsageError, match="No credentials for github"):
        run_checks(config)


def test_an_unreachable_receiver_is_a_transport_error_before_any_check() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    config = RunConfig("github", f"http://u:pw-x1@127.0.0.1:{port}/hook", Credentials(secret=SECRET), catalog=CATALOG)
    seen: list[str] = []
    with pytest.raises(TransportError) as info:
        run_checks(config, on_result=lambda outcome: seen.append(outcome.check))
    message = str(info.value)
    assert info.value.exit_code == 2 and "\n" not in message and "connection refused" in message
    assert "pw-x1" not in message and seen == []


def test_exit_code_and_report_of_a_failing_run_without_secrets(tmp_path: Path) -> None:
    fake = FakeReceiver("github", "skip-auth")
    result = run_checks(fake.config(probe=fake, seed=11))
    assert result.exit_code == 1
    report = to_json(result)
    assert report["provider"] == "github" and report["seed"] == 11 and report["exit_code"] == 1
    # converges is skipped: no state probe
    assert report["summary"] == {"passed": 11, "failed": 3, "warned": 0, "skipped": 5, "blocked": 0}
    by_id = {c["id"]: c for c in report["checks"]}
    assert list(by_id) == ordered_ids()
    failed = by_id["rejects-missing-auth"]
    assert failed["status"] == "failed" and failed["category"] == "auth" and failed["repro"].startswith("curl ")
    assert failed["violations"][0]["expected"].startswith("a 4xx") and "HTTP 200" in failed["violations"][0]["received"]
    assert by_id["handshake"]["status"] == "skipped" and by_id["handshake"]["repro"] is None
    assert by_id["accepts-valid"]["requests"] == len(fake.provider.sampled().ordinary_events) + 1  # + a non-ASCII body
    terminal = "\n".join(
        [*(render_outcome(o) for o in result.outcomes), render_failures(result.outcomes, 11), render_summary(result)]
    )
    assert "rejects-missing-auth       FAILED" in terminal and "Seed:     11" in terminal
    assert "3 failed" in render_summary(result) and "seed 11" in render_summary(result)
    for text in (json.dumps(report), terminal):
        assert SECRET not in text


def test_oci_basic_password_never_appears() -> None:
    password = "oci-Password-77"
    delivery = Delivery("oci", "POST", {"Authorization": "Basic aGFybmVzczpvY2ktUGFzc3dvcmQtNzc="}, b"{}", (), ())
    command = curl_command(delivery.replace(url_userinfo=("harness", password)), "http://127.0.0.1:1/h", Redactor())
    assert password not in command and "harness:***@127.0.0.1:1" in command and "aGFybmVzcz" not in command
    assert redact_url(f"http://harness:{password}@example.test/x") == "http://harness:***@example.test/x"


@contextmanager
def recording_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server that records each request's method, headers and exact body."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook?x=1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


BODY = b'[{"quote": "it\'s", "back\\\\slash": "\\u00e9\xc3\xa9", "dollar": "$HOME `x` %s %%", "del": "\x7f"}]\r\n'


@pytest.mark.parametrize("body", [BODY, BODY + b"\x00 after NUL \\x00 %d", b"-n leading dash\n", b"-n\x00dash"])
def test_curl_repro_replays_the_exact_bytes_and_headers(body: bytes) -> None:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "ab" * 32, "X-Odd": 'a\'b "c"'}
    delivery = Delivery("github", "POST", headers, body, ("push",), ("k",))
    with recording_server() as (url, seen):
        command = curl_command(delivery, url, Redactor([SECRET]))
        subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=20)
    (request,) = seen
    assert request["body"] == body and request["path"] == "/hook?x=1"
    assert request["headers"]["X-Hub-Signature-256"] == headers["X-Hub-Signature-256"]
    assert request["headers"]["X-Odd"] == headers["X-Odd"]


def test_a_violation_repro_replays_what_the_check_sent() -> None:
    fake = FakeReceiver("github", "invoice.paid", "push")  # push deliveries crash the fake
    with recording_server() as (url, seen):
        config = dataclasses.replace(fake.config(), url=url)
        (violation,) = run_check(config, "accepts-valid").violations
        assert SECRET not in violation.repro
        subprocess.run(["bash", "-c", violation.repro], check=True, capture_output=True, timeout=20)
    (request,) = seen
    assert json.loads(request["body"])["ref"] and request["headers"]["X-GitHub-Event"] == "push"
    assert fake.authentic(Delivery("github", "POST", request["headers"], request["body"], (), ()))


def test_identical_refusals_are_one_block_naming_the_cause() -> None:
    from harness.checks import CheckOutcome
    from harness.report import render_check_failure
    from harness.violations import ContractViolation

    expected = "a 2xx: the provider retries or gives up on anything else"
    violations = [
        ContractViolation("accepts-valid", f"A valid {e!r} delivery was not acknowledged", expected, "HTTP 401 in 3 ms")
        for e in ("push", "issues", "ping", "release")
    ]
    text = render_check_failure(CheckOutcome("accepts-valid", "t", "failed", violations))
    assert text.count("__ accepts-valid __") == 1
    assert "Same answer (HTTP 401) for 3 more" in text and "check the secret, key or token" in text
