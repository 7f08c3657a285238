"""Token and probe answers are bounded in size, depth and type: a hostile peer gets a one-line error, not our memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib

import pytest

from harness.errors import ConfigError, TokenError
from harness.probes.counts import HttpProbe, SqlProbe
from harness.signing import TokenClient
from harness.simulate.policy import retry_after_seconds
from tests.hardening._peers import raw_server, respond, stream

GIB = 1 << 30
HUGE_TOKEN_HEAD = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741850\r\n\r\n{"access_token": "'
)
HUGE_PROBE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n["


def _gzip_bomb_head() -> tuple[bytes, bytes]:
    """A head announcing gzip, and a chunk of deflated zeros (about 1,000:1) to repeat."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = compressor.compress(b"\0" * (8 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
    return head, chunk


_CHILD = """
import sys
from harness.errors import HarnessError
kind, url = sys.argv[1], sys.argv[2]
try:
    if kind == "token":
        from harness.signing import TokenClient
        TokenClient(url, "id", "client-secret", timeout=20).token()
    else:
        from harness.probes.counts import HttpProbe
        HttpProbe(url + "/{event_id}", timeout=20).count("evt")
    print("accepted")
except HarnessError as exc:
    print("error:", exc)
# VmHWM is this process's own peak: ru_maxrss survives exec, so it would start at the (large) pytest parent's RSS.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("rss_mb", peak_kb // 1024)
"""


def _in_child(kind: str, url: str) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, url], capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    return lines[0], int(lines[-1].split()[1])


@pytest.mark.parametrize(
    ("kind", "handler"),
    [
        ("token", stream(HUGE_TOKEN_HEAD, b"a" * 65536, GIB)),
        ("token", stream(*_gzip_bomb_head(), GIB)),
        ("probe", stream(HUGE_PROBE_HEAD, b"1," * 32768, GIB)),
        ("probe", stream(*_gzip_bomb_head(), GIB)),
    ],
    ids=["token-1gib", "token-gzip-bomb", "probe-1gib", "probe-gzip-bomb"],
)
def test_huge_answers_are_refused_within_200_mb(kind: str, handler: object) -> None:
    with raw_server(handler) as peer:  # type: ignore[arg-type]
        verdict, rss = _in_child(kind, peer.url + "/x")
    assert verdict.startswith("error:") and "KiB" in verdict
    assert rss < 200


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"count": ' + b"[" * 60_000 + b"1" + b"]" * 60_000 + b"}"])
def test_deeply_nested_json_is_a_one_line_error(body: bytes) -> None:
    with raw_server(respond("200 OK", body, {"Content-Type": "application/json"})) as peer:
        with pytest.raises(TokenError):
            TokenClient(peer.url + "/token", "id", "client-secret", timeout=5).token()
        with pytest.raises(ConfigError):
            HttpProbe(peer.url + "/{event_id}", timeout=5).count("evt")


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"-3", "negative"), (b'{"count": 1.5}', "whole number"), (b'{"count": "2"}', "whole number"), (b"true", "whole")],
)
def test_an_http_probe_answer_that_is_not_a_count_is_refused(body: bytes, message: str) -> None:
    with raw_server(respond("200 OK", body)) as peer:
        with pytest.raises(ConfigError, match=message):
            HttpProbe(peer.url + "/{event_id}", timeout=5).count("evt")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 'abc' WHERE :event_id IS NOT NULL", "whole number"),
        ("SELECT 1.9 WHERE :event_id IS NOT NULL", "whole number"),
        ("SELECT -4 WHERE :event_id IS NOT NULL", "negative"),
        (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) "
            "SELECT x FROM c WHERE :event_id IS NOT NULL",
            "more than one row",
        ),
    ],
    ids=["text", "fraction", "negative", "20M-rows"],
)
def test_a_sql_probe_answer_that_is_not_one_count_is_refused(sql: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=message):
        SqlProbe("sqlite://", sql, timeout=10).count("evt")
    assert time.monotonic() - started < 5  # 20M rows are not loaded: two are read


def test_a_sql_probe_query_past_its_timeout_is_cancelled() -> None:
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c WHERE :event_id IS NOT NULL"
    )
    started = time.monotonic()
    with pytest.raises(ConfigError, match="did not finish within 1s"):
        SqlProbe("sqlite://", slow, timeout=1).count("evt")
    assert time.monotonic() - started < 4


def _pg_url() -> str:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    return url


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT ARRAY[1] WHERE CAST(:event_id AS text) IS NOT NULL", "whole number"),
        ("SELECT 1.9 WHERE CAST(:event_id AS text) IS NOT NULL", "whole number"),
        ("SELECT generate_series(1, 20000000) WHERE CAST(:event_id AS text) IS NOT NULL", "more than one row"),
    ],
    ids=["array", "fraction", "20M-rows"],
)
def test_postgres_probe_answers_that_are_not_one_count(sql: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SqlProbe(_pg_url(), sql, timeout=10).count("evt")


@pytest.mark.postgres
def test_a_slow_postgres_query_is_ended_by_the_server() -> None:
    from sqlalchemy import create_engine, text

    marker = "webhook_harness_slow_probe"
    sql = f"SELECT count(*) FROM pg_sleep(3600) WHERE CAST(:event_id AS text) = '{marker}'"
    started = time.monotonic()
    with pytest.raises(ConfigError, match="did not finish within 1s"):
        SqlProbe(_pg_url(), sql, timeout=1).count(marker)
    assert time.monotonic() - started < 5
    engine = create_engine(_pg_url())
    with engine.connect() as conn:
        running = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE query LIKE :q AND state = 'active' AND pid <> pg_backend_pid()"
            ),
            {"q": f"%{marker}%"},
        ).scalar()
    engine.dispose()
    assert running == 0


@pytest.mark.parametrize("value", ["²", "١٢", "1e400", "-5", " 12 "])
def test_retry_after_takes_only_ascii_delta_seconds(value: str) -> None:
    expected = 12.0 if value.strip() == "12" else None
    assert retry_after_seconds(value, time.time()) == expected
