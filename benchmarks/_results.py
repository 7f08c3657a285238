"""Stored benchmark results: one JSON file per `make bench` run and a self-contained HTML page plotting every figure.

A result file (``benchmarks/results/<date>-<commit>.json``) holds the machine the run was made on (cores, memory,
load average before and after, Python), and per benchmark its exit code, seconds, figures and targets (met or not).
The page (``benchmarks/results/index.html``) draws each figure over every stored result as an inline SVG, with no
script and no network, and flags a figure whose last value is worse than the one before by more than 10%.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
REGRESSION = 0.10  # a last value this much worse than the previous one is flagged on the page
HERE = Path(__file__).resolve().parent


def memory_bytes() -> int:
    """Physical memory of the machine."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def git_commit(cwd: Path = HERE) -> str:
    """The short commit of the tree being measured, ``+dirty`` when it has uncommitted changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """What the figures depend on besides the code."""
    return {
        "cores": os.cpu_count() or 0,
        "memory_bytes": memory_bytes(),
        "load_average_start": load_average(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def new_result(quick: bool, now: dt.datetime | None = None) -> dict[str, Any]:
    """An empty result for a run starting now."""
    when = now or dt.datetime.now(dt.UTC)
    return {
        "schema": SCHEMA_VERSION,
        "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(),
        "quick": quick,
        "machine": machine(),
        "benchmarks": {},
    }


def add_benchmark(result: dict[str, Any], name: str, code: int, seconds: float, report: dict[str, Any]) -> None:
    """One benchmark's outcome: its exit code, time, and the figures and targets it wrote."""
    result["benchmarks"][name] = {
        "exit_code": code,
        "seconds": round(seconds, 2),
        "figures": report.get("figures", {}),
        "targets": report.get("targets", []),
    }


def finish(result: dict[str, Any]) -> None:
    """Close the run: the load average at the end, and whether every target was met."""
    result["machine"]["load_average_end"] = load_average()
    benches = result["benchmarks"].values()
    result["all_targets_met"] = all(t["met"] for b in benches for t in b["targets"])


def validate(result: Any) -> list[str]:
    """What is wrong with a result document (empty when it follows the schema)."""
    problems: list[str] = []
    if not isinstance(result, dict):
        return ["not an object"]
    for key, kind in (("schema", int), ("date", str), ("commit", str), ("quick", bool), ("machine", dict)):
        if not isinstance(result.get(key), kind):
            problems.append(f"{key}: expected {kind.__name__}")
    mach = result.get("machine") if isinstance(result.get("machine"), dict) else {}
    for key, kind in (("cores", int), ("memory_bytes", int), ("load_average_start", list), ("python", str)):
        if not isinstance(mach.get(key), kind):
            problems.append(f"machine.{key}: expected {kind.__name__}")
    benches = result.get("benchmarks")
    if not isinstance(benches, dict):
        return [*problems, "benchmarks: expected object"]
    for name, bench in benches.items():
        if not isinstance(bench, dict) or not isinstance(bench.get("exit_code"), int):
            problems.append(f"{name}: expected an object with an exit_code")
            continue
        for fig, value in (bench.get("figures") or {}).items():
            if not (isinstance(value, dict) and isinstance(value.get("value"), int | float)):
                problems.append(f"{name}.{fig}: expected a numeric value")
            elif value.get("better") not in ("higher", "lower") or not isinstance(value.get("unit"), str):
                problems.append(f"{name}.{fig}: expected a unit and better = higher|lower")
        for target in bench.get("targets") or []:
            if not (isinstance(target, dict) and isinstance(target.get("target"), str)):
                problems.append(f"{name}: a target without its text")
            elif not isinstance(target.get("met"), bool):
                problems.append(f"{name}: target {target['target']!r} without met")
    return problems


def file_name(result: dict[str, Any]) -> str:
    """``<date>-<commit>.json``: names sort in time order."""
    stamp = result["date"].replace(":", "").replace("-", "").rstrip("Z")
    commit = "".join(c if c.isalnum() else "-" for c in result["commit"])
    return f"{stamp}-{commit}.json"


def write(result: dict[str, Any], folder: Path) -> Path:
    """Store a result and redraw the page from every result in the folder; the result file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(result)
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    (folder / "index.html").write_text(render(load_all(folder)))
    return path


def load_all(folder: Path) -> list[dict[str, Any]]:
    """Every valid stored result, oldest first (an unreadable file is skipped, not fatal)."""
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not validate(doc):
            results.append(doc)
    return sorted(results, key=lambda r: r["date"])


def series(results: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[int, dict[str, Any]]]]:
    """Every (benchmark, figure) with its values, as (index of the run, figure) pairs."""
    out: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    for i, result in enumerate(results):
        for bench, body in result["benchmarks"].items():
            for fig, value in body.get("figures", {}).items():
                out.setdefault((bench, fig), []).append((i, value))
    return dict(sorted(out.items()))


def regressed(points: list[tuple[int, dict[str, Any]]]) -> bool:
    """The last value is worse than the one before by more than REGRESSION."""
    if len(points) < 2:
        return False
    prev, last = points[-2][1]["value"], points[-1][1]["value"]
    if prev == 0:
        return False
    change = (last - prev) / abs(prev)
    return change < -REGRESSION if points[-1][1]["better"] == "higher" else change > REGRESSION


_W, _H, _PAD = 420, 150, 34


def _svg(points: list[tuple[int, dict[str, Any]]], results: list[dict[str, Any]], bad: bool) -> str:
    """One figure over the runs: a polyline, a dot per run with its run in a tooltip, min/max on the axis."""
    values = [p[1]["value"] for p in points]
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    count = max(len(results) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = _PAD + (_W - 2 * _PAD) * (i / count if len(results) > 1 else 0.5)
        y = _H - _PAD / 2 - (_H - _PAD) * (v - low) / (high - low)
        return round(x, 1), round(y, 1)

    coords = [xy(i, p["value"]) for i, p in points]
    colour = "#c0392b" if bad else "#2c6fbb"
    dots = []
    for (i, p), (x, y) in zip(points, coords, strict=True):
        run = results[i]
        tip = html.escape(f"{run['date']} {run['commit']}: {p['value']:.4g} {p['unit']}")
        dots.append(f'<circle cx="{x}" cy="{y}" r="3.5" fill="{colour}"><title>{tip}</title></circle>')
    line = " ".join(f"{x},{y}" for x, y in coords)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img">'
        f'<line x1="{_PAD}" y1="{_H - _PAD / 2}" x2="{_W - _PAD}" y2="{_H - _PAD / 2}" stroke="#999"/>'
        f'<text x="2" y="12" font-size="10">{max(values):.4g}</text>'
        f'<text x="2" y="{_H - _PAD / 2}" font-size="10">{min(values):.4g}</text>'
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.5"/>{"".join(dots)}</svg>'
    )


def render(results: list[dict[str, Any]]) -> str:
    """The whole page: the runs, each figure's chart, and the last run's targets."""
    esc = html.escape
    runs = "".join(
        f"<tr><td>{esc(r['date'])}</td><td>{esc(r['commit'])}</td><td>{'quick' if r['quick'] else 'full'}</td>"
        f"<td>{r['machine']['cores']}</td><td>{r['machine']['memory_bytes'] / 2**30:.1f} GiB</td>"
        f"<td>{esc(' '.join(str(x) for x in r['machine']['load_average_start']))}</td>"
        f"<td>{esc(r['machine']['python'])}</td>"
        f"<td>{sum(t['met'] for b in r['benchmarks'].values() for t in b['targets'])}"
        f"/{sum(len(b['targets']) for b in r['benchmarks'].values())}</td></tr>"
        for r in results
    )
    charts = []
    for (bench, fig), points in series(results).items():
        bad = regressed(points)
        last = points[-1][1]
        flag = ' <strong class="bad">regressed</strong>' if bad else ""
        charts.append(
            f'<figure data-figure="{esc(bench)}/{esc(fig)}"><figcaption>{esc(bench)}: {esc(fig)} '
            f"({esc(last['unit'])}, {esc(last['better'])} is better) last {last['value']:.4g}{flag}</figcaption>"
            f"{_svg(points, results, bad)}</figure>"
        )
    targets = ""
    if results:
        last_run = results[-1]
        targets = "".join(
            f"<tr><td>{esc(bench)}</td><td>{esc(t['target'])}</td>"
            f'<td class="{"ok" if t["met"] else "bad"}">{"met" if t["met"] else "NOT met"}</td></tr>'
            for bench, body in last_run["benchmarks"].items()
            for t in body["targets"]
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webhook-harness benchmarks</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; font-size: 13px; }}
figure {{ display: inline-block; margin: 6px; border: 1px solid #ddd; padding: 4px; }}
figcaption {{ font-size: 12px; max-width: {_W}px; }} .bad {{ color: #c0392b; }} .ok {{ color: #1e8449; }}
</style></head><body>
<h1>webhook-harness benchmarks</h1>
<p>{len(results)} stored run(s), oldest first. A red chart's last value is more than {REGRESSION:.0%} worse than the
run before it. Hover a dot for its run.</p>
<h2>Runs</h2>
<table><tr><th>date</th><th>commit</th><th>mode</th><th>cores</th><th>memory</th><th>load avg</th><th>python</th>
<th>targets met</th></tr>{runs}</table>
<h2>Figures</h2>
{"".join(charts)}
<h2>Targets of the last run</h2>
<table><tr><th>benchmark</th><th>target</th><th>verdict</th></tr>{targets}</table>
</body></html>
"""
