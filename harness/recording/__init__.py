"""Real traffic: capture deliveries byte for byte, replay them re-signed for now, and judge drift against the catalog.

``Recorder`` is the capture endpoint (and, with ``forward``, a tap); ``read_records`` reads our JSON Lines format and
HAR 1.2; ``replay`` re-signs and sends; ``analyse_drift`` validates recorded bodies; ``write_overlay`` writes widened
schemas as a catalog overlay.
"""

from __future__ import annotations

from harness.recording._capture import CaptureSummary, Limits, Recorder, oci_hosts, oci_or_loopback
from harness.recording._convert import event_types_of, parse_body, record_of, to_delivery
from harness.recording._drift import DriftReport, analyse_drift
from harness.recording._format import Record, RecordingError, RecordWriter, rfc3339
from harness.recording._propose import write_overlay
from harness.recording._read import read_records
from harness.recording._replay import ReplayOptions, ReplayResult, plan_replay, replay, require_credentials, resign
from harness.recording._verify import make_verifier

__all__ = [
    "CaptureSummary",
    "DriftReport",
    "Limits",
    "Record",
    "RecordWriter",
    "Recorder",
    "RecordingError",
    "ReplayOptions",
    "ReplayResult",
    "analyse_drift",
    "event_types_of",
    "make_verifier",
    "oci_hosts",
    "oci_or_loopback",
    "parse_body",
    "plan_replay",
    "read_records",
    "record_of",
    "replay",
    "require_credentials",
    "resign",
    "rfc3339",
    "to_delivery",
    "write_overlay",
]
