"""Stored benchmark results: the JSON a run writes follows its schema, and the page plots every figure of every run."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import _results  # noqa: E402
from _common import RESULT_ENV, Targets  # noqa: E402


def _fake(day: int, commit: str, rate: float, seconds: float, met: bool) -> dict[str, Any]:
    result = _results.new_result(quick=False, now=dt.datetime(2026, 12, day, 5, 0, tzinfo=dt.UTC))
    result["commit"] = commit
    report = {
        "figures": {"ours events/s": {"value": rate, "unit": "events/s", "better": "higher"}},
        "targets": [{"target": "ours >= 3x baseline", "met": met}],
    }
    _results.add_benchmark(result, "bench_generation", 0 if met else 1, 12.5, report)
    check = {"figures": {"check <stripe>": {"value": seconds, "unit": "s", "better": "lower"}}, "targets": []}
    _results.add_benchmark(result, "bench_check", 0, 3.0, check)
    _results.finish(result)
    return result


def test_a_result_follows_the_schema_and_a_broken_one_is_named() -> None:
    result = _fake(1, "abc1234", 1000.0, 2.0, True)
    assert _results.validate(result) == []
    assert json.loads(json.dumps(result)) == result
    assert {"cores", "memory_bytes", "load_average_start", "load_average_end", "python"} <= set(result["machine"])
    assert result["all_targets_met"] is True
    broken = json.loads(json.dumps(result))
    broken["benchmarks"]["bench_generation"]["figures"]["ours events/s"]["value"] = "fast"
    broken["benchmarks"]["bench_generation"]["targets"][0].pop("met")
    del broken["machine"]["cores"]
    problems = _results.validate(broken)
    assert "machine.cores: expected int" in problems
    assert any("ours events/s" in p and "numeric" in p for p in problems)
    assert any("without met" in p for p in problems)


def test_the_page_plots_every_figure_from_two_results_and_flags_a_regression(tmp_path: Path) -> None:
    _results.write(_fake(1, "abc1234", 1000.0, 2.0, True), tmp_path)
    path = _results.write(_fake(2, "def5678", 500.0, 2.1, False), tmp_path)
    assert path.name == "20261202T050000-def5678.json"
    page = (tmp_path / "index.html").read_text()
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    figures = re.findall(r'<figure data-figure="([^"]+)">(.*?)</figure>', page, re.S)
    assert [name for name, _ in figures] == ["bench_check/check &lt;stripe&gt;", "bench_generation/ours events/s"]
    for _, body in figures:
        assert body.count("<circle") == 2  # one dot per stored run
    check, generation = (body for _, body in figures)
    assert "regressed" in generation and "regressed" not in check  # rate halved; seconds up 5% only
    assert "abc1234" in page and "def5678" in page and "NOT met" in page


def test_a_benchmark_writes_its_figures_and_targets_where_run_all_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bench.json"
    monkeypatch.setenv(RESULT_ENV, str(out))
    targets = Targets(quick=True)
    targets.figure("rate", 12.0, "events/s")
    targets.expect(False, "rate >= 20")
    assert targets.exit_code() == 0
    report = json.loads(out.read_text())
    assert report == {
        "figures": {"rate": {"value": 12.0, "unit": "events/s", "better": "higher"}},
        "targets": [{"target": "rate >= 20", "met": False}],
    }


def test_a_quick_run_stores_nothing_in_the_repository(tmp_path: Path) -> None:
    """run_all --quick over one tiny benchmark: its result lands in a temp folder, not in benchmarks/results."""
    fake = tmp_path / "bench_tiny.py"
    fake.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(BENCH)!r})\n"
        "from _common import Targets\n"
        "t = Targets(True)\nt.figure('x', 1.5, 's', better='lower')\nt.expect(True, 'x <= 2 s')\n"
        "sys.exit(t.exit_code())\n"
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import run_all; from pathlib import Path\n"
        "tiny = Path(sys.argv[2]); run_all.benchmarks = lambda: [tiny]\n"
        "sys.argv = ['run_all.py', '--quick']; sys.exit(run_all.main())\n"
    )
    before = sorted((BENCH / "results").glob("*")) if (BENCH / "results").is_dir() else []
    done = subprocess.run(
        [sys.executable, "-c", probe, str(BENCH), str(fake)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    after = sorted((BENCH / "results").glob("*")) if (BENCH / "results").is_dir() else []
    assert before == after
    stored = re.search(r"result: (\S+\.json)", done.stdout)
    assert stored is not None, done.stdout
    result = json.loads(Path(stored.group(1)).read_text())
    assert _results.validate(result) == [] and result["quick"] is True
    assert result["benchmarks"]["bench_tiny"]["figures"]["x"]["value"] == 1.5
    assert (Path(stored.group(1)).parent / "index.html").is_file()
    for leftover in Path(stored.group(1)).parent.iterdir():
        leftover.unlink()
    Path(stored.group(1)).parent.rmdir()


def test_a_quick_run_of_two_at_a_time_prints_each_whole_and_fails_when_one_fails(tmp_path: Path) -> None:
    """run_all --quick --jobs 2: both benchmarks run; each one's output is one block, in name order; exit 1."""
    (tmp_path / "bench_a_breaks.py").write_text("print('a one'); print('a two'); raise SystemExit(3)\n")
    (tmp_path / "bench_b_runs.py").write_text("print('b one'); print('b two')\n")
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import run_all; from pathlib import Path\n"
        "found = sorted(Path(sys.argv[2]).glob('bench_*.py')); run_all.benchmarks = lambda: found\n"
        "sys.argv = ['run_all.py', '--quick', '--jobs', '2', '--results', sys.argv[3]]; sys.exit(run_all.main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(BENCH), str(tmp_path), str(tmp_path / "results")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "=== bench_a_breaks.py ===\na one\na two\n--- bench_a_breaks.py: exit 3" in done.stdout
    assert "=== bench_b_runs.py ===\nb one\nb two\n--- bench_b_runs.py: exit 0" in done.stdout
    assert done.stdout.index("bench_a_breaks") < done.stdout.index("bench_b_runs")
    assert "failed: bench_a_breaks.py" in done.stdout
