"""A failing schedule as a newcomer reads it: a numbered timeline, the states, and a curl script that replays it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.credentials import Redactor
from harness.repro import curl_command
from harness.sequences.engine import LifecycleResult, Sent, Trial

__all__ = ["render_failure", "render_timeline", "repro_script"]


def _reply(sent: Sent) -> str:
    return f"HTTP {sent.reply.status}" if sent.reply.status else sent.reply.describe()


def render_timeline(sent: list[Sent]) -> str:
    """``#  time  event  copy  reply``, one line per delivery; deliveries in flight together are marked."""
    width = max([len(s.label) for s in sent] + [5])
    lines = [f"{'#':>3}  {'time':>8}  {'event':<{width}}  copy  reply"]
    for s in sent:
        together = f"  (in flight with {s.together - 1} other{'s' if s.together > 2 else ''})" if s.together > 1 else ""
        retry = " (retry)" if s.copy > 1 else ""
        lines.append(f"{s.number:>3}  {s.at:+7.3f}s  {s.label:<{width}}  {s.copy:>4}  {_reply(s)}{retry}{together}")
    return "\n".join(lines)


def repro_script(trial: Trial, url: str, redactor: Redactor) -> str:
    """Curl lines in the schedule's order, signed as sent (secrets as ``***``); a group in flight runs with ``&``."""
    lines = ["#!/bin/sh", "# Replays the schedule byte for byte; signatures are as sent, so re-sign stale timestamps."]
    groups: dict[int, list[Sent]] = {}
    for s in trial.sent:
        groups.setdefault(s.group, []).append(s)
    for members in groups.values():
        for s in members:
            lines.append(f"# {s.number}. {s.label} (copy {s.copy})")
            command = curl_command(s.delivery, url, redactor)
            lines.append(command + (" &" if len(members) > 1 else ""))
        if len(members) > 1:
            lines.append("wait")
    return "\n".join(lines)


def _state(state: Mapping[str, Any] | None) -> str:
    return "(no such object)" if state is None else json.dumps(dict(state), sort_keys=True)


def render_failure(result: LifecycleResult, seed: int, state_probe: str) -> str:
    """The minimal failing schedule: timeline, expected and settled state, and the seed (the script comes apart)."""
    trial = result.failure
    assert trial is not None
    lc = result.lifecycle
    kind = "reference run (in order)" if trial is result.reference else "minimal failing schedule"
    lines = [
        f"{result.provider} {lc.name}: {kind}, {len(trial.sent)} deliveries to object {trial.instance.object_id}",
        render_timeline(trial.sent),
        f"Expected state: {_state(trial.expected)}"
        + ("  (the lifecycle's final state)" if trial is result.reference else "  (what the in-order run left)"),
        f"Settled state:  {_state(trial.state)}  (read from {state_probe} after {trial.settled_after:.2f}s)",
        f"Seed: {seed} (replay with --seed {seed})",
    ]
    return "\n".join(lines)
