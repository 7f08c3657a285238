"""`record` as an internet-facing server: hostile peers on 127.0.0.1 cannot exhaust it, forge into it or use it."""

from __future__ import annotations

import errno
import gzip
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from harness.catalog import load_catalog
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.recording import Limits, Recorder, read_records
from harness.signing import sign_delivery
from harness.transport import RequestsTransport
from harness.volume import VolumeGenerator
from tests.hardening._peers import raw_server

CATALOG = load_catalog()
GITHUB = CATALOG.get("github")
CREDS = Credentials(secret="It's a Secret to Everybody")
ROOT = Path(__file__).resolve().parents[2]


def _signed(n: int = 1, seed: int = 3) -> list[bytes | object]:
    # one event type: the generator compiles its schema only, not all 259 of GitHub's
    return [sign_delivery(GITHUB, d, CREDS) for d in VolumeGenerator(GITHUB, seed=seed).deliveries(n, "push")]


def _stalled(url: str, count: int, declared: int) -> list[socket.socket]:
    """Connections that send headers announcing ``declared`` bytes, then nothing."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(
            f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n".encode() + b"x" * 1000
        )
        sockets.append(sock)
    return sockets


@contextmanager
def _recorder(tmp_path: Path, **kwargs: object) -> Iterator[tuple[Recorder, list[str]]]:
    lines: list[str] = []
    with Recorder(GITHUB, tmp_path / "rec.jsonl", on_record=lines.append, **kwargs) as recorder:  # type: ignore[arg-type]
        yield recorder, lines


def test_a_delivery_that_fails_verification_gets_401_and_is_not_stored(tmp_path: Path) -> None:
    with _recorder(tmp_path, credentials=CREDS) as (recorder, lines):
        answer = requests.post(recorder.url, data=b'{"junk": 1}', timeout=5)
        good = RequestsTransport().send(_signed()[0], recorder.url, timeout=5)  # type: ignore[arg-type]
    assert answer.status_code == 401 and good.status == 200
    assert [r.verified for r in read_records(tmp_path / "rec.jsonl")] == [True]
    assert recorder.summary.rejected == 1 and "401, not stored" in lines[0]


def test_a_dripping_body_is_cut_at_the_read_deadline(tmp_path: Path) -> None:
    with _recorder(tmp_path, limits=Limits(read_deadline=0.5)) as (recorder, _):
        (sock,) = _stalled(recorder.url, 1, 10_000)
        started = time.monotonic()
        sock.settimeout(5)
        answer = sock.recv(1000)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3


def test_stalled_uploads_and_a_flood_of_large_bodies_do_not_lock_out_a_real_delivery(tmp_path: Path) -> None:
    """Scaled down from 300 stalled connections and 25 MiB bodies; the budgets are scaled the same way."""
    limits = Limits(max_in_flight=4 << 20, max_bodies=8)
    with (
        _recorder(tmp_path, credentials=CREDS, limits=limits, max_body=3 << 20) as (recorder, _),
        ExitStack() as stack,
    ):
        stalled = _stalled(recorder.url, 60, 3 << 20)
        for sock in stalled:
            stack.callback(sock.close)
        flood_codes: list[int] = []

        def flood() -> None:
            for _ in range(6):
                try:
                    answer = requests.post(recorder.url, data=b"\x00" * ((3 << 20) - 1), timeout=10)
                    flood_codes.append(answer.status_code)
                except requests.RequestException:
                    flood_codes.append(0)

        threads = [threading.Thread(target=flood) for _ in range(3)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        reply = RequestsTransport().send(_signed()[0], recorder.url, timeout=5)  # type: ignore[arg-type]
        took = time.monotonic() - started
        for thread in threads:
            thread.join(30)
    assert reply.status == 200 and took < 5
    assert flood_codes and set(flood_codes) <= {401, 503, 0}  # unsigned, or over the limits: never stored
    assert [r.verified for r in read_records(tmp_path / "rec.jsonl")] == [True]


def test_the_byte_bound_stops_storing_and_the_file_stays_under_it(tmp_path: Path) -> None:
    with _recorder(tmp_path, limits=Limits(max_bytes=1 << 20)) as (recorder, lines):
        codes = [requests.post(recorder.url, data=b"a" * 400_000, timeout=5).status_code for _ in range(3)]
        codes.append(requests.post(recorder.url, json={"small": 1}, timeout=5).status_code)
    assert codes == [200, 200, 503, 503]
    assert (tmp_path / "rec.jsonl").stat().st_size <= 1 << 20
    assert sum("answered 503 and not stored" in line for line in lines) == 1


def test_the_record_bound_stops_storing_with_a_clear_message(tmp_path: Path) -> None:
    with _recorder(tmp_path, limits=Limits(max_records=2)) as (recorder, lines):
        codes = [requests.post(recorder.url, json={"n": n}, timeout=5).status_code for n in range(4)]
        codes.append(requests.post(recorder.url, data=b"x" * (1 << 20), timeout=5).status_code)
        held = (recorder._bodies, recorder._small_bodies, recorder._in_flight)
    assert codes == [200, 200, 503, 503, 503] and held == (0, 0, 0)  # every slot and byte given back
    assert len(list(read_records(tmp_path / "rec.jsonl"))) == 2
    assert sum("answered 503 and not stored" in line for line in lines) == 1


def test_control_bytes_are_stored_compactly_in_an_owner_only_file(tmp_path: Path) -> None:
    junk = bytes(range(32)) * 4096  # 128 KiB of control bytes: 768 KiB as JSON escapes
    with _recorder(tmp_path) as (recorder, _):
        assert requests.post(recorder.url, data=junk, timeout=5).status_code == 200
    path = tmp_path / "rec.jsonl"
    assert path.stat().st_size < len(junk) * 1.4
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (record,) = read_records(path)
    assert record.body == junk


def test_secret_headers_and_query_tokens_are_not_stored(tmp_path: Path) -> None:
    secrets = {
        "X-Api-Key": "k-1",
        "X-Auth-Token": "t-2",
        "Private-Token": "p-3",
        "X-Gitlab-Token": "g-4",
        "X-Shopify-Access-Token": "s-5",
    }
    with _recorder(tmp_path) as (recorder, _):
        headers = {**secrets, "Idempotency-Key": "idem-7"}
        requests.post(recorder.url + "?token=q-6&page=2", json={}, headers=headers, timeout=5)
    text = (tmp_path / "rec.jsonl").read_text()
    assert not any(value in text for value in [*secrets.values(), "q-6"]), text
    assert "page=2" in text and "idem-7" in text  # not credentials: kept


def test_malformed_requests_write_no_tracebacks(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with _recorder(tmp_path) as (recorder, _):
        for _ in range(20):
            requests.post(recorder.url, data=b"{}", headers={"X-Bad": "\x1b"}, timeout=5)
    assert "Traceback" not in capfd.readouterr().err


def test_out_of_file_descriptors_warns_once(tmp_path: Path) -> None:
    with _recorder(tmp_path) as (recorder, lines):
        assert recorder._loop is not None
        for _ in range(50):
            recorder.on_loop_error(recorder._loop, {"exception": OSError(errno.EMFILE, "Too many open files")})
    assert len(lines) == 1 and "file descriptors" in lines[0]


def test_peer_terminal_escapes_and_lone_surrogates_are_printed_escaped(tmp_path: Path) -> None:
    body = json.dumps({"action": "\x1b]0;pwned\x07", "id": "\ud800"}).encode()
    with _recorder(tmp_path) as (recorder, lines):
        answer = requests.post(recorder.url + "/%1b[2J", data=body, headers={"X-Github-Event": "é"}, timeout=5)
        bad = requests.post(recorder.url, data=body, headers={"X-Github-Event": "\x1b[2J"}, timeout=5)
    assert answer.status_code == 200 and bad.status_code == 400  # aiohttp refuses an escape in a header
    assert lines and not any("\x1b" in line or "\x07" in line or "\x7f" in line for line in lines)
    assert "\\x1b[2J" in lines[0]


def test_oci_confirmation_goes_only_to_oci_hosts_and_the_reply_says_nothing(tmp_path: Path) -> None:
    oci = CATALOG.get("oci")
    hits: list[bytes] = []

    def answer(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        hits.append(request)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with raw_server(answer) as peer:
        sample = oci.events["SubscriptionConfirmation"].samples[0]
        replies = []
        for url in (peer.url + "/confirm", "http://127.0.0.1:1/closed"):
            delivery = build_delivery(oci, {**sample, "ConfirmationURL": url}, confirmation_url=url)
            with Recorder(oci, tmp_path / "oci.jsonl") as recorder:
                replies.append(RequestsTransport().send(delivery, recorder.url, timeout=5))
    assert hits == []
    assert [r.status for r in replies] == [200, 200] and replies[0].body == replies[1].body


def _upstream_reply(body: bytes, headers: str) -> object:
    def handler(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(f"HTTP/1.1 202 Accepted\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)

    return handler


def test_the_tap_returns_the_upstream_reply_unchanged(tmp_path: Path) -> None:
    big = gzip.compress(os.urandom(150_000) * 2)[:300_000].ljust(300_000, b"z")
    headers = "Content-Type: application/json\r\nContent-Encoding: gzip\r\nX-Upstream: yes\r\n"
    with raw_server(_upstream_reply(big, headers)) as upstream:  # type: ignore[arg-type]
        with _recorder(tmp_path, forward=upstream.url + "/hook") as (recorder, _):
            body = json.dumps({"action": "opened", "id": "\ud800\x1b"}).encode()
            answer = requests.post(
                recorder.url, data=body, headers={"Accept-Encoding": "identity"}, timeout=10, stream=True
            )
            raw = answer.raw.read(decode_content=False)
    assert answer.status_code == 202
    assert answer.headers["Content-Encoding"] == "gzip" and answer.headers["X-Upstream"] == "yes"
    assert raw == big


def test_record_port_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["record", "github", "--port", "99999"]) == 2
    assert "65535" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://[::1/x", "http://[zz]:80/", "http://host:99999/", "ftp://x/"])
def test_record_malformed_forward_url_is_one_line(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["record", "github", "--port", "0", "--forward", url, "--out", str(tmp_path / "r.jsonl")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_record_command_under_stalls_and_a_flood_stays_small_and_answers(tmp_path: Path) -> None:
    """The command as users run it, with its default limits: 100 stalled uploads and 24 unsigned 8 MiB bodies."""
    out = tmp_path / "rec.jsonl"
    argv = [
        "record",
        "github",
        "--port",
        "0",
        "--out",
        str(out),
        "--secret",
        CREDS.secret or "",
        "--max-bytes",
        "1000000",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(" at ", 1)[1].split(" ", 1)[0]
        with ExitStack() as stack:
            for sock in _stalled(url, 100, 20 << 20):
                stack.callback(sock.close)
            codes: list[int] = []

            def flood() -> None:
                for _ in range(6):
                    try:
                        codes.append(requests.post(url, data=b"\x00" * (8 << 20), timeout=20).status_code)
                    except requests.RequestException:
                        codes.append(0)

            threads = [threading.Thread(target=flood) for _ in range(4)]
            for thread in threads:
                thread.start()
            started = time.monotonic()
            reply = RequestsTransport().send(_signed()[0], url, timeout=5)  # type: ignore[arg-type]
            took = time.monotonic() - started
            for thread in threads:
                thread.join(60)
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    finally:
        process.send_signal(2)
        _, err = process.communicate(timeout=20)
    assert reply.status == 200 and took < 5
    assert codes and set(codes) <= {401, 503, 0}  # unsigned (401) or over the limits (503): never stored
    assert peak_kb < 300 * 1024, peak_kb
    assert out.stat().st_size <= 1_000_000 and "Traceback" not in err
