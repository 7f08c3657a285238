"""Event sequences: lifecycles played in the orders, duplicates and overlaps a provider really produces.

The engine sends a lifecycle in order to a fresh object (the reference), then lets Hypothesis draw schedules, each
to a new object, and checks that every delivery gets a 2xx and the receiver's state settles on the reference.
"""

from __future__ import annotations

from harness.sequences.engine import LifecycleResult, Sent, SequenceOptions, SequenceRunner, Trial
from harness.sequences.instances import Instance, build_instance
from harness.sequences.schedules import Schedule, Send, in_order, schedules
from harness.sequences.state import (
    HttpStateProbe,
    SqlStateProbe,
    StateProbe,
    field_pointers,
    make_state_probe,
    project,
)
from harness.sequences.timeline import render_failure, render_timeline, repro_script

__all__ = [
    "HttpStateProbe",
    "Instance",
    "LifecycleResult",
    "Schedule",
    "Send",
    "Sent",
    "SequenceOptions",
    "SequenceRunner",
    "SqlStateProbe",
    "StateProbe",
    "Trial",
    "build_instance",
    "field_pointers",
    "in_order",
    "make_state_probe",
    "project",
    "render_failure",
    "render_timeline",
    "repro_script",
    "schedules",
]
