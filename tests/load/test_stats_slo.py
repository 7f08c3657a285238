"""Error classes, HDR percentiles, merging senders, SLO gates and the reports."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import aiohttp
import pytest

from harness.errors import UsageError
from harness.load import Gate, LoadResult, LoadStats, evaluate, parse_gates, write_html, write_json
from harness.load.stats import error_class


def test_error_classes() -> None:
    assert error_class(204) is None
    assert [error_class(s) for s in (302, 404, 429, 500, 503, 0)] == ["3xx", "4xx", "4xx", "5xx", "5xx", "other"]
    assert error_class(0, TimeoutError()) == "timeout"
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None),  # type: ignore[call-arg]
        OSError(errno.ECONNREFUSED, "refused"),
    )
    assert error_class(0, refused) == "refused"
    assert error_class(0, aiohttp.ServerDisconnectedError()) == "reset"
    assert error_class(0, ConnectionResetError()) == "reset"


def _stats(latencies_ms: list[float], status: int = 200) -> LoadStats:
    stats = LoadStats()
    for i, ms in enumerate(latencies_ms):
        stats.started(i / 100, 0.0)
        stats.finished(i / 100, ms / 1000, status, error_class(status))
    return stats


def test_percentiles_come_from_the_hdr_histogram() -> None:
    stats = _stats([float(ms) for ms in range(1, 1001)])
    lat = stats.latency_ms()
    assert lat["p50"] == pytest.approx(500, rel=0.01) and lat["p99"] == pytest.approx(990, rel=0.01)
    assert lat["p999"] == pytest.approx(999, rel=0.01) and lat["max"] == pytest.approx(1000, rel=0.01)
    assert stats.series()[0]["sent"] == 100 and stats.series()[0]["p50_ms"] == pytest.approx(50.5)


def test_senders_merge_exactly() -> None:
    a, b = _stats([1.0] * 300), _stats([100.0] * 100, status=503)
    b.drop(0.5)
    merged = LoadStats.merged([a.to_wire(), b.to_wire()])
    assert merged.sent == 400 and merged.succeeded == 300 and merged.errors == {"5xx": 100} and merged.dropped == 1
    assert merged.status_counts == {200: 300, 503: 100}
    assert merged.latency_ms()["p90"] == pytest.approx(100, rel=0.01) and merged.latency_ms()["p50"] < 1.1
    assert merged.series()[0]["sent"] == 200


def test_gates_parse_and_judge() -> None:
    gates = parse_gates("250ms", "1%", "95")
    assert gates == [Gate("max-p99", 250.0), Gate("max-error-rate", 1.0), Gate("min-rate-achieved", 95.0)]
    results = evaluate(gates, p99_ms=300.0, error_rate_pct=0.5, achieved_pct=96.0)
    assert [r.passed for r in results] == [False, True, True]
    assert results[0].to_json() == {"name": "max-p99", "limit": 250.0, "observed": 300.0, "passed": False}
    for bad in (("fast", None, None), (None, "lots", None), (None, None, "150%")):
        with pytest.raises(UsageError):
            parse_gates(*bad)


def test_reports(tmp_path: Path) -> None:
    stats = _stats([2.0] * 150)
    result = LoadResult(
        provider="github",
        url="http://127.0.0.1:1/hook",
        mode="open",
        target_rate=100.0,
        duration_s=2.0,
        scheduled=200,
        stats=stats,
        target_series=[100, 100],
        wall_s=2.1,
        cpu_s=0.3,
        prepare_s=0.1,
        processes=1,
        concurrency=8,
        slo=evaluate([Gate("min-rate-achieved", 95.0)], p99_ms=2.0, error_rate_pct=0.0, achieved_pct=75.0),
    )
    assert result.achieved_rate == 75.0 and result.exit_code == 1
    data = json.loads(write_json(result, tmp_path / "r.json").read_text())
    for key in ("provider", "url", "target_rate", "achieved_rate", "duration_s", "sent", "succeeded", "dropped"):
        assert key in data
    assert set(data["latency_ms"]) == {"p50", "p90", "p99", "p999", "max"}
    assert data["slo"][0]["passed"] is False and data["exit_code"] == 1 and data["probe"] is None
    assert set(data["errors"]) >= {"timeout", "reset", "refused", "4xx", "5xx"}
    page = write_html(result, tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2 and "<polyline" in page
    assert "<script" not in page
