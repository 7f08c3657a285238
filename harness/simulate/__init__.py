"""The retry simulator: a provider's retry policy replayed on a virtual clock, against the real receiver or none."""

from __future__ import annotations

from harness.simulate.engine import SimConfig, Unit, run_simulation
from harness.simulate.outages import Outages, parse_outage
from harness.simulate.policy import RetryPolicy
from harness.simulate.results import SimResult
from harness.simulate.scenario import SCENARIO_SCHEMA, Scenario, load_scenario
from harness.simulate.timeline import write_timeline

__all__ = [
    "SCENARIO_SCHEMA",
    "Outages",
    "RetryPolicy",
    "Scenario",
    "SimConfig",
    "SimResult",
    "Unit",
    "load_scenario",
    "parse_outage",
    "run_simulation",
    "write_timeline",
]
