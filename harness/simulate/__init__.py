"""The retry simulator: a provider's retry policy replayed on a virtual clock, against the real receiver or none."""

from __future__ import annotations

from harness.simulate.api import simulate
from harness.simulate.batching import BatchPlan, batch_events
from harness.simulate.clock import ScaledClock, VirtualClock
from harness.simulate.engine import SimConfig, run_simulation
from harness.simulate.outages import Outages, parse_outage
from harness.simulate.policy import RetryPolicy, max_survivable_outage
from harness.simulate.results import SimResult
from harness.simulate.scenario import SCENARIO_SCHEMA, Scenario, load_scenario
from harness.simulate.timeline import write_timeline
from harness.simulate.workload import Unit, Workload

__all__ = [
    # running
    "simulate",
    "run_simulation",
    "SimConfig",
    "SimResult",
    # policies and time
    "RetryPolicy",
    "max_survivable_outage",
    "VirtualClock",
    "ScaledClock",
    # what is sent, and when the receiver is down
    "Workload",
    "Unit",
    "BatchPlan",
    "batch_events",
    "Outages",
    "parse_outage",
    # scenarios and pictures
    "SCENARIO_SCHEMA",
    "Scenario",
    "load_scenario",
    "write_timeline",
]
