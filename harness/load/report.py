"""A load run's outcome: the terminal summary, the JSON report and an HTML page with rate and latency over time."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.load.slo import GateResult
from harness.load.stats import ERROR_CLASSES, LoadStats
from harness.report import write_text

__all__ = ["LoadResult", "ProbeOutcome", "render_html", "write_html", "write_json"]


@dataclass
class ProbeOutcome:
    """Each sampled delivered event counted once through the probe after the settle wait."""

    description: str
    delivered_keys: int
    checked: int
    once: int
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    settle_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Every checked key stored exactly once."""
        return self.once == self.checked

    def to_json(self) -> dict[str, Any]:
        """The report's ``probe`` object (at most 20 keys of each kind)."""
        return {
            "probe": self.description,
            "delivered_keys": self.delivered_keys,
            "checked": self.checked,
            "sample": self.checked < self.delivered_keys,
            "stored_once": self.once,
            "missing": len(self.missing),
            "duplicated": len(self.duplicated),
            "missing_keys": self.missing[:20],
            "duplicated_keys": self.duplicated[:20],
            "settle_s": self.settle_s,
            "passed": self.passed,
        }


@dataclass
class LoadResult:
    """What a load run did, measured against its schedule and its gates."""

    provider: str
    url: str
    mode: str  # "open" or "storm"
    target_rate: float
    duration_s: float
    scheduled: int
    stats: LoadStats
    target_series: list[int]
    wall_s: float
    cpu_s: float
    prepare_s: float
    processes: int
    concurrency: int
    late: int = 0
    connections: int = 0  # keep-alive connections at most (0: not recorded)
    slo: list[GateResult] = field(default_factory=list)
    probe: ProbeOutcome | None = None
    details: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C stopped the run: the figures are partial

    @property
    def achieved_rate(self) -> float:
        """Events per second of the requests that started (on time or late), over the scheduled duration."""
        return self.stats.events_started / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def achieved_pct(self) -> float:
        """Achieved as a percentage of the target."""
        return 100.0 * self.achieved_rate / self.target_rate if self.target_rate > 0 else 100.0

    @property
    def error_rate_pct(self) -> float:
        """Failed requests as a percentage of those that ended (dropped starts are not requests)."""
        answered = self.stats.answered
        return 100.0 * (answered - self.stats.succeeded) / answered if answered else 0.0

    @property
    def exit_code(self) -> int:
        """130 when interrupted; 1 when a gate was violated or the probe found a key stored other than once; else 0."""
        if self.interrupted:
            return 130
        failed = any(not gate.passed for gate in self.slo) or (self.probe is not None and not self.probe.passed)
        return 1 if failed else 0

    def to_json(self) -> dict[str, Any]:
        """The ``--report`` JSON."""
        stats = self.stats
        return {
            "provider": self.provider,
            "url": self.url,
            "mode": self.mode,
            "target_rate": round(self.target_rate, 3),
            "achieved_rate": round(self.achieved_rate, 3),
            "achieved_pct": round(self.achieved_pct, 2),
            "duration_s": round(self.duration_s, 3),
            "scheduled": self.scheduled,
            "sent": stats.sent,
            "succeeded": stats.succeeded,
            "events": {"scheduled": stats.events_started + stats.events["dropped"], **stats.events},
            "dropped": stats.dropped,
            "late": self.late,
            "max_start_lag_ms": round(stats.max_lag * 1000.0, 3),
            "error_rate_pct": round(self.error_rate_pct, 3),
            "latency_ms": {k: round(v, 3) for k, v in stats.latency_ms().items()},
            "status_counts": {str(k): v for k, v in sorted(stats.status_counts.items())},
            "errors": {name: stats.errors.get(name, 0) for name in ERROR_CLASSES},
            "slo": [gate.to_json() for gate in self.slo],
            "probe": self.probe.to_json() if self.probe is not None else None,
            "processes": self.processes,
            "concurrency": self.concurrency,
            "connections": self.connections,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "prepare_s": round(self.prepare_s, 3),
            "details": self.details,
            "series": stats.series(),
            "target_series": self.target_series,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
        }

    def render(self) -> str:
        """The terminal summary."""
        stats = self.stats
        lat = stats.latency_ms()
        errors = ", ".join(f"{k} {v}" for k, v in stats.errors.items() if v) or "none"
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status_counts.items())) or "none"
        lines = [
            f"{self.provider} {self.mode} load against {self.url}: {self.duration_s:g}s, {self.processes} process(es), "
            f"up to {self.concurrency:,} in flight"
            + (f" over {self.connections:,} connections" if self.connections else ""),
            f"  rate      target {self.target_rate:,.1f}/s, achieved {self.achieved_rate:,.1f}/s "
            f"({self.achieved_pct:.1f}%); dropped starts {stats.dropped}, late starts {self.late}",
            f"  requests  sent {stats.sent:,}, succeeded {stats.succeeded:,}, error rate {self.error_rate_pct:.2f}%",
            "  events    "
            + ", ".join(
                f"{name} {stats.events[name]:,}" for name in ("delivered", "refused", "lost", "dropped", "trimmed")
            )
            + " (refused and lost: inside requests answered non-2xx, or not at all)",
            f"  latency   p50 {lat['p50']:.2f}ms  p90 {lat['p90']:.2f}ms  p99 {lat['p99']:.2f}ms  "
            f"p99.9 {lat['p999']:.2f}ms  max {lat['max']:.2f}ms",
            f"  status    {codes}",
            f"  errors    {errors}",
        ]
        if self.probe is not None:
            probe = self.probe
            scope = "all" if probe.checked == probe.delivered_keys else f"a sample of {probe.checked:,}"
            lines.append(
                f"  probe     {scope} of {probe.delivered_keys:,} delivered keys: {probe.once:,} stored once, "
                f"{len(probe.missing)} missing, {len(probe.duplicated)} more than once"
            )
        for gate in self.slo:
            lines.append(f"  slo       {gate.describe()}")
        if self.interrupted:
            lines.append("INTERRUPTED: partial results (Ctrl-C), no probe round")
        else:
            lines.append("PASS" if self.exit_code == 0 else "FAIL")
        return "\n".join(lines)


def write_json(result: LoadResult, path: str | Path) -> Path:
    """Write the JSON report; a clear error when the path cannot be written."""
    return write_text(json.dumps(result.to_json(), indent=2) + "\n", path, "load report")


def write_html(result: LoadResult, path: str | Path) -> Path:
    """Write the HTML page."""
    return write_text(render_html(result), path, "load report")


_W, _H, _L, _R, _T, _B = 1000, 220, 60, 20, 20, 30
_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1060px}
h1{font-size:20px} h2{font-size:15px;margin-top:28px} pre{background:#f6f6f6;padding:12px;font-size:12px}
.grid{stroke:#eee} .axis{stroke:#999} text{font-size:11px;fill:#444}
.target{stroke:#9e9e9e;stroke-dasharray:5 4;fill:none;stroke-width:1.5} .sent{stroke:#1565c0;fill:none;stroke-width:2}
.ok{stroke:#2e7d32;fill:none;stroke-width:1.5} .err{fill:#c62828;opacity:.75} .drop{fill:#ef6c00;opacity:.75}
.p50{stroke:#5c6bc0;fill:none;stroke-width:1.5} .p99{stroke:#c62828;fill:none;stroke-width:2}
.limit{stroke:#c62828;stroke-dasharray:2 3;stroke-width:1}
.key{display:inline-block;width:18px;height:3px;margin:0 4px 3px 14px;vertical-align:middle}
"""


def _chart(
    series: list[list[float | None]], classes: list[str], seconds: int, *, unit: str, limit: float | None
) -> str:
    """An SVG line chart over the run's seconds."""
    top = max([v for line in series for v in line if v is not None] + [limit or 0.0, 1e-9]) * 1.1
    span = max(1, seconds)
    sx = (_W - _L - _R) / span
    sy = (_H - _T - _B) / top

    def x(t: float) -> float:
        return _L + t * sx

    def y(v: float) -> float:
        return _H - _B - v * sy

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img">']
    for i in range(6):
        level = top * i / 5
        parts.append(f'<line class="grid" x1="{_L}" y1="{y(level):.1f}" x2="{_W - _R}" y2="{y(level):.1f}"/>')
        parts.append(f'<text x="{_L - 6}" y="{y(level) + 4:.1f}" text-anchor="end">{level:,.3g}{unit}</text>')
    for i in range(11):
        t = span * i / 10
        parts.append(f'<text x="{x(t):.1f}" y="{_H - 10}" text-anchor="middle">{t:.0f}s</text>')
    parts.append(f'<line class="axis" x1="{_L}" y1="{_H - _B}" x2="{_W - _R}" y2="{_H - _B}"/>')
    if limit is not None:
        parts.append(f'<line class="limit" x1="{_L}" y1="{y(limit):.1f}" x2="{_W - _R}" y2="{y(limit):.1f}"/>')
    for line, css in zip(series, classes, strict=True):
        if css in ("err", "drop"):
            bar = max(1.0, sx * 0.4)
            for t, v in enumerate(line):
                if v:
                    h = v * sy
                    parts.append(
                        f'<rect class="{css}" x="{x(t):.1f}" y="{_H - _B - h:.1f}" width="{bar:.1f}" height="{h:.1f}"/>'
                    )
            continue
        points = " ".join(f"{x(t + 0.5):.1f},{y(v):.1f}" for t, v in enumerate(line) if v is not None)
        if points:
            parts.append(f'<polyline class="{css}" points="{points}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _key(css: str, label: str, colour: str) -> str:
    return f'<span class="key" style="background:{colour}"></span>{html.escape(label)}'


def render_html(result: LoadResult) -> str:
    """A self-contained page: requests per second against the target, and p50/p99 latency, second by second."""
    series = result.stats.series()
    seconds = max(len(series), len(result.target_series))
    target = [float(v) for v in result.target_series] + [0.0] * (seconds - len(result.target_series))
    sent = [float(s["sent"]) for s in series]
    ok = [float(s["ok"]) for s in series]
    errors = [float(s["errors"]) for s in series]
    dropped = [float(s["dropped"]) for s in series]
    p50: list[float | None] = [s["p50_ms"] for s in series]
    p99: list[float | None] = [s["p99_ms"] for s in series]
    p99_limit = next((g.limit for g in result.slo if g.name == "max-p99"), None)
    rate_svg = _chart(
        [list(target), list(sent), list(ok), list(errors), list(dropped)],
        ["target", "sent", "ok", "err", "drop"],
        seconds,
        unit="/s",
        limit=None,
    )
    latency_svg = _chart([p50, p99], ["p50", "p99"], seconds, unit="ms", limit=p99_limit)
    title = f"webhook-harness load: {result.provider} ({result.mode})"
    verdict = "PASS" if result.exit_code == 0 else "FAIL"
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}: {verdict}</h1>",
            "<h2>Requests per second (by scheduled second)</h2>",
            "<div>"
            + _key("target", "scheduled", "#9e9e9e")
            + _key("sent", "started", "#1565c0")
            + _key("ok", "2xx", "#2e7d32")
            + _key("err", "errors", "#c62828")
            + _key("drop", "dropped starts", "#ef6c00")
            + "</div>",
            rate_svg,
            "<h2>Latency per second</h2>",
            "<div>"
            + _key("p50", "p50", "#5c6bc0")
            + _key("p99", "p99", "#c62828")
            + (" (dotted: the --max-p99 gate)" if p99_limit is not None else "")
            + "</div>",
            latency_svg,
            "<h2>Summary</h2>",
            f"<pre>{html.escape(result.render())}</pre>",
            "</body></html>",
        ]
    )
