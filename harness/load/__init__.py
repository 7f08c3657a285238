"""Load at provider scale: an open-model sender, the recovery storm, SLO gates, JSON and HTML reports."""

from __future__ import annotations

from harness.load.api import probe_keys, run_load
from harness.load.engine import LoadConfig, check_reachable, play
from harness.load.report import LoadResult, ProbeOutcome, render_html, write_html, write_json
from harness.load.schedule import Schedule, open_schedule, parse_ramp
from harness.load.slo import Gate, GateResult, evaluate, parse_gates
from harness.load.source import DeliverySource
from harness.load.stats import ERROR_CLASSES, LoadStats
from harness.load.storm import storm_schedule

__all__ = [
    # running
    "run_load",
    "LoadConfig",
    "LoadResult",
    "play",
    "check_reachable",
    "probe_keys",
    "ProbeOutcome",
    # what is sent, and when
    "Schedule",
    "open_schedule",
    "parse_ramp",
    "storm_schedule",
    "DeliverySource",
    # what is measured and judged
    "LoadStats",
    "ERROR_CLASSES",
    "Gate",
    "GateResult",
    "parse_gates",
    "evaluate",
    # reports
    "write_json",
    "write_html",
    "render_html",
]
