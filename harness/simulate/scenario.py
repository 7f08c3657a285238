"""Scenario files (TOML): who sends what and when, noise (duplicates, reordering), outages. Validated on load."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.catalog import Catalog, Provider
from harness.core.durations import parse_duration
from harness.errors import ScenarioError
from harness.simulate.engine import Unit

__all__ = ["SCENARIO_SCHEMA", "Scenario", "load_scenario"]

_DURATION = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$"}
SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "provider", "population", "steps"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "provider": {"type": "string"},
        "description": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "population": {
            "type": "object",
            "required": ["count", "arrive_over"],
            "additionalProperties": False,
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
                "arrive_over": _DURATION,
                "label": {"type": "string"},
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["event"],
                "additionalProperties": False,
                "properties": {
                    "event": {"type": "string"},
                    "after": _DURATION,
                    "jitter": _DURATION,
                    "rate": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
        },
        "noise": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "duplicates": {"type": "number", "minimum": 0, "maximum": 1},
                "out_of_order": {"type": "number", "minimum": 0, "maximum": 1},
                "reorder_by": _DURATION,
            },
        },
        "outages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["start", "end"],
                "additionalProperties": False,
                "properties": {"start": _DURATION, "end": _DURATION},
            },
        },
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "lost": {"type": "integer", "minimum": 0},
                "exit_code": {"type": "integer", "enum": [0, 1]},
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCENARIO_SCHEMA)


@dataclass
class Scenario:
    """A validated scenario."""

    path: Path
    name: str
    provider: str
    description: str
    seed: int
    count: int
    arrive_over: float
    steps: list[dict[str, Any]]
    duplicates: float = 0.0
    out_of_order: float = 0.0
    reorder_by: float = 300.0
    outages: list[tuple[float, float]] = field(default_factory=list)
    expect: dict[str, int] = field(default_factory=dict)

    def units(self, provider: Provider, count: int | None = None) -> list[Unit]:
        """The deliveries this scenario makes, in arrival order (SendGrid events batched per flush interval)."""
        rng = random.Random(self.seed)
        events: list[tuple[float, str]] = []
        for _ in range(count or self.count):
            t = rng.random() * self.arrive_over
            for step in self.steps:
                if rng.random() > float(step.get("rate", 1.0)):
                    break
                t += parse_duration(step.get("after", "0s")) + rng.random() * parse_duration(step.get("jitter", "0s"))
                arrival = t + (rng.random() * self.reorder_by if rng.random() < self.out_of_order else 0.0)
                events.append((arrival, step["event"]))
        events.sort()
        units = (
            _batch(provider, events)
            if provider.body.shape == "batch"
            else [Unit(arrival, [(name, arrival)]) for arrival, name in events]
        )
        extra = []
        for uid, unit in enumerate(units):
            if rng.random() < self.duplicates:
                extra.append(Unit(unit.arrival + rng.random() * self.reorder_by, unit.events, duplicate_of=uid))
        return sorted([*units, *extra], key=lambda u: u.arrival) if extra else units


def _batch(provider: Provider, events: list[tuple[float, str]]) -> list[Unit]:
    """SendGrid: one POST per flush interval, or sooner when the batch reaches its size cap."""
    interval = provider.body.flush_interval or 30.0
    cap_events = max(1, (provider.body.batch_max_bytes or 786_432) // 450)  # ~450 bytes per event
    units: list[Unit] = []
    current: list[tuple[str, float]] = []
    window_end = None
    for arrival, name in events:
        if window_end is None:
            window_end = (arrival // interval + 1) * interval
        if arrival >= window_end or len(current) >= cap_events:
            units.append(Unit(window_end if arrival >= window_end else arrival, current))
            current = []
            window_end = (arrival // interval + 1) * interval
        current.append((name, arrival))
    if current and window_end is not None:
        units.append(Unit(window_end, current))
    return units


def load_scenario(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Parse and validate a scenario file; errors name the file and the line or field."""
    from harness.catalog import load_catalog

    target = Path(path)
    try:
        data = tomllib.loads(target.read_text("utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{target}: scenario file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{target}: cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{target}: invalid TOML: {exc}.") from None
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path).lstrip(".")
        raise ScenarioError(f"{target}: {where or 'top level'}: {first.message}.")
    provider = (catalog or load_catalog()).get(data["provider"])
    for index, step in enumerate(data["steps"]):
        if step["event"] not in provider.events:
            known = ", ".join(provider.ordinary_events)
            raise ScenarioError(
                f"{target}: steps[{index}].event: {step['event']!r} is not a {provider.id} event ({known})."
            )
    noise = data.get("noise", {})
    outages = []
    for index, window in enumerate(data.get("outages", [])):
        start, end = parse_duration(window["start"]), parse_duration(window["end"])
        if end <= start:
            raise ScenarioError(f"{target}: outages[{index}]: end must come after start.")
        outages.append((start, end))
    return Scenario(
        path=target,
        name=data["name"],
        provider=data["provider"],
        description=data.get("description", ""),
        seed=int(data.get("seed", 0)),
        count=int(data["population"]["count"]),
        arrive_over=parse_duration(data["population"]["arrive_over"]),
        steps=list(data["steps"]),
        duplicates=float(noise.get("duplicates", 0.0)),
        out_of_order=float(noise.get("out_of_order", 0.0)),
        reorder_by=parse_duration(noise.get("reorder_by", "5m")),
        outages=outages,
        expect=dict(data.get("expect", {})),
    )
