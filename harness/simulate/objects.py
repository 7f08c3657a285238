"""Lifecycle objects in a simulation: each object's steps arrive with reordering noise, and afterwards the state
probe says how many objects the receiver ended up believing the wrong thing about."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.catalog import Lifecycle, Provider
from harness.core.models import Delivery
from harness.sequences import Instance, StateProbe, build_instance, field_pointers, project
from harness.sequences.instances import STEP_GAP
from harness.simulate.workload import Unit
from harness.volume import VolumeGenerator

__all__ = ["ObjectPlan", "ObjectStates", "check_objects", "lifecycle_units"]

MAX_OBJECTS_CHECKED = 1_000  # objects the state probe reads after a run, at most (a seeded sample beyond)


@dataclass
class ObjectPlan:
    """Which object and step each unit carries (by unit index), and each object's instance once built."""

    provider: Provider
    lifecycle: Lifecycle
    steps_of: Sequence[tuple[int, int]]  # unit -> (object, step)
    seed: int = 0
    clock: Callable[[], float] = field(default=lambda: 0.0, repr=False)
    instances: dict[int, Instance] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"objects-{self.seed}")
        self._generator = VolumeGenerator(self.provider, seed=self._rng.randrange(2**32))

    def instance(self, obj: int) -> Instance:
        """Object ``obj``'s events (ids and rising version stamps), built on first use."""
        found = self.instances.get(obj)
        if found is None:
            start = self.clock() - 3600.0
            found = self.instances[obj] = build_instance(
                self.provider, self.lifecycle, self._rng, start, self._generator
            )
        return found

    def delivery(self, unit: int) -> Delivery:
        """The unsigned delivery of one unit: its object's step."""
        obj, step = self.steps_of[unit]
        return self.instance(obj).events[step]


def lifecycle_units(
    lifecycle: Lifecycle, objects: int, spread: float, out_of_order: float, reorder_by: float, seed: int
) -> tuple[list[Unit], list[tuple[int, int]]]:
    """Units for ``objects`` objects created over ``spread``: step ``i`` happens ``i`` minutes after the first; a
    fraction ``out_of_order`` of the events is delivered up to ``reorder_by`` late. Sorted by arrival."""
    rng = random.Random(seed)
    rand = rng.random
    rows = []
    for obj in range(objects):
        start = rand() * spread
        for index, step in enumerate(lifecycle.steps):
            happened = start + index * STEP_GAP
            late = rand() * reorder_by if rand() < out_of_order else 0.0
            rows.append((happened + late, happened, obj, index, step.event))
    rows.sort()
    units = [Unit(arrival, [(event, happened)]) for arrival, happened, _, _, event in rows]
    return units, [(obj, index) for _, _, obj, index, _ in rows]


@dataclass
class ObjectStates:
    """What the state probe found after the run."""

    objects: int = 0  # objects whose every step was delivered
    checked: int = 0
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (object id, what the receiver believes)
    incomplete: int = 0  # objects with a step lost: no expected state to compare with


def check_objects(
    plan: ObjectPlan,
    delivered: Callable[[int], bool],
    probe: StateProbe,
    fields: Sequence[str] = (),
    *,
    seed: int = 0,
) -> ObjectStates:
    """Read each fully delivered object's state (a seeded sample past ``MAX_OBJECTS_CHECKED``) against the
    lifecycle's final state."""
    import json

    complete: dict[int, bool] = {}
    for unit, (obj, _) in enumerate(plan.steps_of):
        complete[obj] = complete.get(obj, True) and delivered(unit)
    done = sorted(obj for obj, ok in complete.items() if ok)
    out = ObjectStates(objects=len(done), incomplete=len(complete) - len(done))
    sample = done if len(done) <= MAX_OBJECTS_CHECKED else random.Random(seed).sample(done, MAX_OBJECTS_CHECKED)
    pointers = field_pointers(plan.lifecycle, fields)
    want = plan.lifecycle.final
    for obj in sample:
        object_id = plan.instance(obj).object_id
        got = project(probe.view(object_id), pointers)
        out.checked += 1
        same = got is None if want is None else got is not None and all(got.get(k) == v for k, v in want.items())
        if not same:
            out.wrong.append((object_id, "(no such object)" if got is None else json.dumps(got, sort_keys=True)))
    return out
