"""A self-contained HTML page with an SVG timeline of attempts and outages."""

from __future__ import annotations

import html
from pathlib import Path

from harness.core.durations import format_duration
from harness.errors import ConfigError
from harness.simulate.results import SimResult

__all__ = ["write_timeline"]

_COLOURS = {"delivered": "#2e7d32", "outage": "#c62828"}
WIDTH, ROW, LEFT = 1000, 6, 60


def write_timeline(result: SimResult, path: str | Path) -> Path:
    """Write the page: one row per sampled delivery, a dot per attempt, red bands for outages."""
    samples = result.timeline
    rows = {uid: i for i, uid in enumerate(sorted({uid for _, uid, _, _ in samples}))}
    horizon = max([t for t, _, _, _ in samples] + [e for _, e in result.outages] + [1.0])
    scale = (WIDTH - LEFT - 10) / horizon
    height = max(60, len(rows) * ROW + 40)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" '
        'font-size="11">'
    ]
    for start, end in result.outages:
        x, w = LEFT + start * scale, max(1.0, (end - start) * scale)
        parts.append(f'<rect x="{x:.1f}" y="20" width="{w:.1f}" height="{height - 30}" fill="#ffcdd2"/>')
    for tick in range(11):
        t = horizon * tick / 10
        x = LEFT + t * scale
        parts.append(f'<line x1="{x:.1f}" y1="15" x2="{x:.1f}" y2="{height - 10}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="12" text-anchor="middle">{html.escape(format_duration(t))}</text>')
    for t, uid, attempt, outcome in samples:
        y = 24 + rows[uid] * ROW
        colour = _COLOURS.get(outcome, "#ef6c00")
        title = html.escape(f"delivery {uid}, attempt {attempt} at {format_duration(t)}: {outcome}")
        parts.append(
            f'<circle cx="{LEFT + t * scale:.1f}" cy="{y}" r="2.2" fill="{colour}"><title>{title}</title></circle>'
        )
    parts.append("</svg>")
    summary = html.escape(result.render())
    page = (
        "<!doctype html><meta charset='utf-8'><title>webhook-harness simulate: "
        f"{html.escape(result.provider)}</title><body style='font-family:sans-serif'>"
        f"<h1>Retry timeline: {html.escape(result.provider)}</h1>"
        "<p>Each row is a sampled delivery; each dot an attempt (green delivered, red inside an outage, orange "
        "a receiver failure). Red bands are outages.</p>" + "".join(parts) + f"<pre>{summary}</pre></body>"
    )
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the timeline to {target}: {exc.strerror or exc}.") from None
    return target
