"""Scenario files (TOML): who sends what and when, noise (duplicates, reordering), outages. Validated on load."""

from __future__ import annotations

import heapq
import random
import tomllib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.catalog import Catalog, Provider
from harness.core.files import read_text
from harness.errors import ScenarioError, UsageError
from harness.simulate.lazy import ordered_uniform
from harness.simulate.outages import parse_span
from harness.simulate.policy import RetryPolicy
from harness.simulate.workload import Unit, Workload

__all__ = [
    "HELD_ENTITIES",
    "HELD_EVENTS",
    "MAX_ENTITIES",
    "MAX_SCENARIO_EVENTS",
    "SCENARIO_SCHEMA",
    "Scenario",
    "load_scenario",
]

# A plain dry run streams a scenario's events (memory follows what is in flight); the bounds keep its time sane.
MAX_ENTITIES = 100_000_000
MAX_SCENARIO_EVENTS = 400_000_000  # entities x steps
# A run that holds every event (real HTTP, --time-scale, duplicates, a policy that disables the endpoint): measured
# (one core) 10^6 entities x 4 steps in about 40 s and 380 MB.
HELD_ENTITIES = 1_000_000
HELD_EVENTS = 4_000_000
_SORT_CHUNK = 1 << 17  # event times sorted at a time before the chunks are merged
_DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"}  # 90s, 6h, 2h30m, 1d2h
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
                "count": {"type": "integer", "minimum": 1, "maximum": MAX_ENTITIES},
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
        "retry": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "window": {"anyOf": [_DURATION, {"type": "null"}]},
                "max_attempts": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
                "backoff": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "delays": {"type": "array", "items": _DURATION},
                        "factor": {"type": "number", "minimum": 1},
                        "max_delay": _DURATION,
                        "jitter": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    },
                },
                "on_exhausted": {"enum": ["drop", "disable-endpoint"]},
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
    retry: dict[str, Any] = field(default_factory=dict)

    def events(self, count: int | None = None) -> tuple[array[float], array[int], tuple[str, ...]]:
        """Every event of every entity, sorted by arrival: (times, type indices, type names)."""
        rng = random.Random(self.seed)
        rand = rng.random
        names = tuple(dict.fromkeys(step["event"] for step in self.steps))
        plan = [
            (
                float(step.get("rate", 1.0)),
                parse_span(step.get("after", "0s")),
                parse_span(step.get("jitter", "0s")),
                names.index(step["event"]),
            )
            for step in self.steps
        ]
        pairs: list[tuple[float, int]] = []
        for _ in range(self.count if count is None else count):
            t = rand() * self.arrive_over
            for rate, after, jitter, kind in plan:
                if rand() >= rate:
                    break
                t += after + rand() * jitter
                late = rand() * self.reorder_by if rand() < self.out_of_order else 0.0
                pairs.append((t + late, kind))
        pairs.sort()
        return array("d", [t for t, _ in pairs]), array("H", [k for _, k in pairs]), names

    def times(self, count: int | None = None) -> Iterator[float]:
        """The arrival times of every event, ascending, without holding them all.

        Up to ``HELD_ENTITIES`` entities they are exactly those of ``events()`` (the same draws, sorted in chunks and
        merged); beyond, the entities' start times are drawn already sorted and each entity's later steps wait on a
        heap until their time comes, so memory follows the events still to come, not the total.
        """
        n = self.count if count is None else count
        plan = [
            (float(step.get("rate", 1.0)), parse_span(step.get("after", "0s")), parse_span(step.get("jitter", "0s")))
            for step in self.steps
        ]
        rng = random.Random(self.seed)
        rand, reorder_by, out_of_order = rng.random, self.reorder_by, self.out_of_order
        if n > HELD_ENTITIES:
            return self._streamed(n, plan, rng)
        chunks: list[array[float]] = []
        pending: list[float] = []
        for _ in range(n):
            t = rand() * self.arrive_over
            for rate, after, jitter in plan:
                if rand() >= rate:
                    break
                t += after + rand() * jitter
                late = rand() * reorder_by if rand() < out_of_order else 0.0
                pending.append(t + late)
            if len(pending) >= _SORT_CHUNK:
                chunks.append(array("d", sorted(pending)))
                pending = []
        chunks.append(array("d", sorted(pending)))
        return heapq.merge(*chunks)

    def _streamed(self, n: int, plan: list[tuple[float, float, float]], rng: random.Random) -> Iterator[float]:
        rand, reorder_by, out_of_order = rng.random, self.reorder_by, self.out_of_order
        later: list[float] = []  # steps of entities already started, not yet due
        pop, push = heapq.heappop, heapq.heappush
        for start in ordered_uniform(n, self.arrive_over, rng):
            while later and later[0] <= start:
                yield pop(later)
            t = start
            for rate, after, jitter in plan:
                if rand() >= rate:
                    break
                t += after + rand() * jitter
                late = rand() * reorder_by if rand() < out_of_order else 0.0
                push(later, t + late)
        while later:
            yield pop(later)

    def workload(self, provider: Provider, count: int | None = None) -> Workload:
        """The deliveries this scenario makes (SendGrid events batched per flush interval), resends included."""
        times, kinds, names = self.events(count)
        workload = Workload.from_events(times, provider, types=kinds, names=names, seed=self.seed)
        return workload.with_duplicates(random.Random(self.seed + 1), self.duplicates, self.reorder_by)

    def units(self, provider: Provider, count: int | None = None) -> list[Unit]:
        """The same deliveries as ``Unit`` objects (handy for small runs and tests)."""
        wl = self.workload(provider, count)
        units: list[Unit] = []
        for u in range(wl.units):
            first = wl.original(u)
            events = [
                (name or "", wl.event_times[e]) for name, e in zip(wl.types_of(u), wl.unit_events(u), strict=True)
            ]
            units.append(Unit(wl.arrivals[u], events, duplicate_of=None if first == u else first))
        return units


def load_scenario(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Parse and validate a scenario file; errors name the file and the line or field."""
    from harness.catalog import load_catalog

    target = Path(path)
    text = read_text(target, ScenarioError, what="scenario file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{target}: invalid TOML: {exc}.") from None
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path).lstrip(".")
        line = _line_of(text, list(first.absolute_path))
        at = f" (line {line})" if line else ""
        raise ScenarioError(f"{target}: {where or 'top level'}{at}: {first.message}.")
    try:
        provider = (catalog or load_catalog()).get(data["provider"])
    except UsageError as exc:
        raise ScenarioError(f"{target}: provider (line {_line_of(text, ['provider'])}): {exc}") from None
    for index, step in enumerate(data["steps"]):
        if step["event"] not in provider.ordinary_events:
            known = ", ".join(provider.ordinary_events)
            raise ScenarioError(
                f"{target}: steps[{index}].event (line {_line_of(text, ['steps', index, 'event'])}): "
                f"{step['event']!r} is not a {provider.id} event ({known})."
            )
    count = int(data["population"]["count"])
    if count * len(data["steps"]) > MAX_SCENARIO_EVENTS:
        line = _line_of(text, ["population", "count"])
        raise ScenarioError(
            f"{target}: population.count (line {line}): {count:,} entities x {len(data['steps'])} steps is over "
            f"{MAX_SCENARIO_EVENTS:,} events, the most one run takes."
        )
    try:
        retry = _retry_seconds(data.get("retry") or {})
        RetryPolicy.from_profile(provider, retry)
        spans = {
            "arrive_over": parse_span(data["population"]["arrive_over"], what="population.arrive_over"),
            "reorder_by": parse_span(data.get("noise", {}).get("reorder_by", "5m"), what="noise.reorder_by"),
        }
        for index, step in enumerate(data["steps"]):
            for key in ("after", "jitter"):
                parse_span(step.get(key, "0s"), what=f"steps[{index}].{key}")
    except UsageError as exc:
        raise ScenarioError(f"{target}: {exc}") from None
    noise = data.get("noise", {})
    outages = []
    for index, window in enumerate(data.get("outages", [])):
        try:
            start, end = parse_span(window["start"]), parse_span(window["end"])
        except UsageError as exc:
            raise ScenarioError(f"{target}: outages[{index}]: {exc}") from None
        if end <= start:
            line = _line_of(text, ["outages", index, "end"])
            raise ScenarioError(f"{target}: outages[{index}].end (line {line}): the end must come after the start.")
        outages.append((start, end))
    return Scenario(
        path=target,
        name=data["name"],
        provider=data["provider"],
        description=data.get("description", ""),
        seed=int(data.get("seed", 0)),
        count=count,
        arrive_over=spans["arrive_over"],
        steps=list(data["steps"]),
        duplicates=float(noise.get("duplicates", 0.0)),
        out_of_order=float(noise.get("out_of_order", 0.0)),
        reorder_by=spans["reorder_by"],
        outages=outages,
        expect=dict(data.get("expect", {})),
        retry=retry,
    )


def _retry_seconds(retry: dict[str, Any]) -> dict[str, Any]:
    """The scenario's retry block with its durations in seconds (``2h30m`` reads as the CLI reads it)."""
    out = dict(retry)
    if isinstance(out.get("window"), str):
        out["window"] = parse_span(out["window"], what="retry.window")
    backoff = dict(out.get("backoff") or {})
    if backoff:
        if "delays" in backoff:
            backoff["delays"] = [parse_span(d, what="retry.backoff.delays entry") for d in backoff["delays"]]
        if isinstance(backoff.get("max_delay"), str):
            backoff["max_delay"] = parse_span(backoff["max_delay"], what="retry.backoff.max_delay")
        out["backoff"] = backoff
    return out


def _line_of(text: str, path: list[str | int]) -> int | None:
    """Best effort: the line where the value at ``path`` (``["steps", 1, "rate"]``) is written."""
    if not path:
        return None
    table = str(path[0])
    index = path[1] if len(path) > 1 and isinstance(path[1], int) else 0
    keys = [p for p in path[1:] if isinstance(p, str)]
    section: int | None = None
    seen = -1
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            current = line.strip("[]").strip()
            if current == table:
                seen += 1
            elif current.startswith(table + ".") and seen < 0:  # only a sub-table, e.g. [retry.backoff]
                seen = 0
            else:
                continue
            if seen == index and section is None:
                section = number
            continue
        name = line.split("=", 1)[0].strip().strip('"') if "=" in line else None
        if name is None:
            continue
        if current is None and name == table:
            return number
        if section is not None and current is not None and current.split(".")[0] == table and seen == index:
            if keys and name == keys[-1]:
                return number
    return section
