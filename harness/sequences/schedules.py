"""Delivery schedules a provider may produce for one lifecycle, and the Hypothesis strategy that draws them."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from harness.catalog import Lifecycle

__all__ = ["MAX_EXTRA_COPIES", "Schedule", "Send", "first_tries", "in_order", "schedules"]

MAX_EXTRA_COPIES = 3  # duplicates and late retries per schedule


@dataclass(frozen=True, slots=True)
class Send:
    """One delivery in a schedule: which step, which copy (1 is the first delivery, 2+ a retry re-signed)."""

    step: int
    copy: int


@dataclass(frozen=True)
class Schedule:
    """Groups of sends in order; the sends of one group are in flight at the same time."""

    groups: tuple[tuple[Send, ...], ...]

    @property
    def sends(self) -> list[Send]:
        """Every send, in dispatch order."""
        return [send for group in self.groups for send in group]

    def __len__(self) -> int:
        return sum(len(group) for group in self.groups)


def in_order(lifecycle: Lifecycle) -> Schedule:
    """Each step once, one after the other: the reference run."""
    return Schedule(tuple((Send(i, 1),) for i in range(len(lifecycle.steps))))


def first_tries(lifecycle: Lifecycle, *, concurrency: int = 2) -> list[Schedule]:
    """Schedules tried before any drawn one, each as short as a schedule can be: the whole lifecycle backwards
    (where no order is promised), and the last two steps in flight together, the newer dispatched first."""
    n = len(lifecycle.steps)
    out = []
    if lifecycle.guarantee == "none":
        out.append(Schedule(tuple((Send(i, 1),) for i in reversed(range(n)))))
    if concurrency > 1:
        head = tuple((Send(i, 1),) for i in range(n - 2))
        out.append(Schedule((*head, (Send(n - 1, 1), Send(n - 2, 1)))))
    return out


def _build(order: list[int], extras: list[tuple[int, int]], joins: list[bool], concurrency: int) -> Schedule:
    """``order`` of first copies; each extra ``(step, delay)`` is a retry of ``step`` placed ``delay`` sends after
    its first copy (a late retry when it lands after later steps); ``joins[k]`` puts send ``k`` in flight with the
    previous group, up to ``concurrency`` at once."""
    sends = [Send(step, 1) for step in order]
    copies = dict.fromkeys(order, 1)
    for step, delay in extras:
        first = next(i for i, s in enumerate(sends) if s.step == step)
        copies[step] += 1
        sends.insert(min(len(sends), first + 1 + delay), Send(step, copies[step]))
    groups: list[list[Send]] = []
    for index, send in enumerate(sends):
        join = index < len(joins) and joins[index] and groups and len(groups[-1]) < concurrency
        if join:
            groups[-1].append(send)
        else:
            groups.append([send])
    return Schedule(tuple(tuple(group) for group in groups))


def schedules(lifecycle: Lifecycle, *, concurrency: int = 2) -> st.SearchStrategy[Schedule]:
    """Schedules the provider may produce: any order where it promises none, retries (early or late), and up to
    ``concurrency`` deliveries in flight together. Shrinking heads for the in-order schedule with nothing extra."""
    n = len(lifecycle.steps)
    steps = list(range(n))
    order = st.permutations(steps) if lifecycle.guarantee == "none" else st.just(steps)
    extras = st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n + MAX_EXTRA_COPIES)), max_size=MAX_EXTRA_COPIES)
    joins = st.lists(st.booleans(), max_size=n + MAX_EXTRA_COPIES) if concurrency > 1 else st.just([])
    return st.builds(_build, order, extras, joins, st.just(concurrency))
