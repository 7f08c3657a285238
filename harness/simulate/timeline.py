"""A self-contained HTML page with inline SVG: sampled attempts over virtual time, outage bands, a histogram."""

from __future__ import annotations

import html
from pathlib import Path

from harness.core.durations import format_duration
from harness.core.files import write_file
from harness.errors import ConfigError
from harness.simulate.results import SimResult

__all__ = ["render_timeline", "write_timeline"]

WIDTH, LEFT, RIGHT, TOP, ROW = 1100, 70, 20, 30, 4
MAX_ROWS = 300
_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px} pre{background:#f6f6f6;padding:12px;font-size:12px}
.outage{fill:#ffcdd2} .grid{stroke:#eee} .span{stroke:#bbb;stroke-width:1}
.ok{fill:#2e7d32} .down{fill:#c62828} .fail{fill:#ef6c00} .lost{stroke:#000;stroke-width:1.5}
.bar{fill:#5c6bc0} text{font-size:11px;fill:#444}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 14px}
"""


def _label(seconds: float) -> str:
    return format_duration(seconds) if seconds else "0"


def _attempts_svg(result: SimResult) -> str:
    """One row per sampled delivery (at most ``MAX_ROWS``): a dot per attempt, a cross where it was given up."""
    by_unit: dict[int, list[tuple[float, int, str]]] = {}
    for t, uid, attempt, outcome in result.timeline:
        by_unit.setdefault(uid, []).append((t, attempt, outcome))
    uids = sorted(by_unit, key=lambda u: min(by_unit[u])[0])
    if len(uids) > MAX_ROWS:
        step = len(uids) / MAX_ROWS
        uids = [uids[int(i * step)] for i in range(MAX_ROWS)]
    horizon = max([t for u in uids for t, _, _ in by_unit[u]] + [e for _, e in result.outages] + [1.0]) * 1.02
    scale = (WIDTH - LEFT - RIGHT) / horizon
    height = TOP + max(1, len(uids)) * ROW + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img">']
    for start, end in result.outages:
        x, w = LEFT + start * scale, max(1.0, (min(end, horizon) - start) * scale)
        parts.append(f'<rect class="outage" x="{x:.1f}" y="{TOP - 5}" width="{w:.1f}" height="{height - TOP - 20}"/>')
    for tick in range(11):
        t = horizon * tick / 10
        x = LEFT + t * scale
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 20}"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP - 12}" text-anchor="middle">{html.escape(_label(t))}</text>')
    parts.append(f'<text x="4" y="{height - 6}">rows: {len(uids)} sampled deliveries</text>')
    for row, uid in enumerate(uids):
        attempts = sorted(by_unit[uid])
        y = TOP + row * ROW + 2
        first, last = attempts[0][0], attempts[-1][0]
        if last > first:
            parts.append(
                f'<line class="span" x1="{LEFT + first * scale:.1f}" y1="{y}" x2="{LEFT + last * scale:.1f}" y2="{y}"/>'
            )
        for t, attempt, outcome in attempts:
            kind = "ok" if outcome == "delivered" else "down" if outcome == "outage" else "fail"
            title = html.escape(f"delivery {uid}, attempt {attempt} at {_label(t)}: {outcome}")
            parts.append(
                f'<circle class="{kind}" cx="{LEFT + t * scale:.1f}" cy="{y}" r="1.8"><title>{title}</title></circle>'
            )
        if attempts[-1][2] != "delivered":
            x = LEFT + last * scale + 4
            parts.append(f'<path class="lost" d="M{x - 2:.1f} {y - 2}l4 4m0 -4l-4 4"><title>given up</title></path>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram_svg(result: SimResult) -> str:
    """Bars: how many events needed 1, 2, 3, ... attempts (0: never attempted)."""
    items = sorted(result.histogram.items())
    if not items:
        return ""
    peak = max(n for _, n in items) or 1
    bar, gap, tall = 28, 6, 120
    width = LEFT + len(items) * (bar + gap) + RIGHT
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{tall + 40}" role="img">']
    for i, (attempts, count) in enumerate(items):
        h = max(1.0, tall * count / peak)
        x = LEFT + i * (bar + gap)
        parts.append(f'<rect class="bar" x="{x}" y="{10 + tall - h:.1f}" width="{bar}" height="{h:.1f}">')
        parts.append(f"<title>{attempts} attempts: {count:,} events</title></rect>")
        parts.append(f'<text x="{x + bar / 2}" y="{tall + 24}" text-anchor="middle">{attempts}</text>')
    parts.append(f'<text x="4" y="{tall + 24}">attempts</text></svg>')
    return "".join(parts)


def render_timeline(result: SimResult) -> str:
    """The page as text."""
    legend = (
        '<span class="key" style="background:#2e7d32"></span>delivered'
        '<span class="key" style="background:#c62828"></span>inside an outage (not sent)'
        '<span class="key" style="background:#ef6c00"></span>the receiver failed'
        '<span class="key" style="background:#ffcdd2"></span>outage ✕ given up'
    )
    title = f"Retry timeline: {result.provider}"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(result.policy)}. Virtual time from the first event; each row is one sampled delivery, each "
        f"dot an attempt.</p><p>{legend}</p>{_attempts_svg(result)}<h2>Attempts per event</h2>"
        f"{_histogram_svg(result)}<pre>{html.escape(result.render())}</pre></body></html>\n"
    )


def write_timeline(result: SimResult, path: str | Path) -> Path:
    """Write the page; an unwritable path is a configuration error."""
    return write_file(path, render_timeline(result), ConfigError, what="timeline")
