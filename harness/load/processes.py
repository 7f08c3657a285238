"""``--processes P``: the schedule split by delivery over P sender processes that start together, results merged."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.load.stats import LoadStats

__all__ = ["ChildSpec", "Merged", "run_processes"]

_READY_TIMEOUT = 600.0  # building the deliveries of one share


@dataclass
class ChildSpec:
    """Everything one sender process needs, in picklable form (a catalog is rebuilt from its folder and overrides)."""

    provider: str
    schemas: str | None
    overrides: dict[str, Any] | None
    settings: dict[str, Any]  # its share of the run: the ``LoadConfig`` fields but the provider and the progress
    index: int


@dataclass
class Merged:
    """The senders' results combined."""

    stats: LoadStats
    delivered_keys: list[str]
    wall: float
    cpu: float
    prepare_s: float
    late: int


def _child(spec: ChildSpec, barrier: Any, results: Any) -> None:
    """One sender process: build its share, wait for the others, play, report."""
    try:
        from harness.catalog import load_catalog
        from harness.load.engine import LoadConfig, play

        provider = load_catalog(spec.schemas, overrides=spec.overrides).get(spec.provider)

        def tick(stats: LoadStats, elapsed: float) -> None:
            lat = stats.latency_ms()
            results.put(("tick", spec.index, stats.sent, stats.answered - stats.succeeded, stats.dropped, lat["p99"]))

        config = LoadConfig(provider=provider, progress=tick, **spec.settings)
        run = play(config, ready=lambda: barrier.wait(_READY_TIMEOUT))
        results.put(
            ("done", spec.index, run.stats.to_wire(), run.delivered_keys(), run.wall, run.cpu, run.prepare_s, run.late)
        )
    except HarnessError as exc:
        barrier.abort()
        results.put(("error", spec.index, str(exc)))
    except BaseException as exc:  # a crash in a child is reported in one line by the parent
        barrier.abort()
        results.put(("error", spec.index, f"{type(exc).__name__}: {exc}"))


def run_processes(
    specs: list[ChildSpec],
    *,
    deadline_s: float,
    progress: Callable[[int, int, int, float, float], None] | None = None,
) -> Merged:
    """Run each spec in its own process (spawned: no state shared with this one); every child is ended at the end."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(specs) + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(spec, barrier, results), daemon=True) for spec in specs]
    parts: dict[int, tuple[Any, ...]] = {}
    ticks: dict[int, tuple[int, int, int, float]] = {}
    try:
        for proc in procs:
            proc.start()
        try:
            barrier.wait(_READY_TIMEOUT)
        except Exception:  # a child failed while preparing: its message is on the queue
            pass
        started = time.monotonic()
        end = started + deadline_s
        while len(parts) < len(specs):
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise HarnessError(f"The sender processes did not finish within {deadline_s:.0f}s.")
            try:
                message = results.get(timeout=min(remaining, 1.0))
            except queue_module.Empty:
                if not any(proc.is_alive() for proc in procs) and results.empty():
                    raise HarnessError("A sender process ended without a result.") from None
                continue
            kind, index = message[0], message[1]
            if kind == "error":
                raise HarnessError(f"Sender process {index + 1}: {message[2]}")
            if kind == "tick":
                ticks[index] = message[2:]
                if progress is not None:
                    sent = sum(t[0] for t in ticks.values())
                    errors = sum(t[1] for t in ticks.values())
                    dropped = sum(t[2] for t in ticks.values())
                    p99 = max(t[3] for t in ticks.values())
                    progress(sent, errors, dropped, p99, time.monotonic() - started)
            else:
                parts[index] = message[2:]
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        results.close()
    ordered = [parts[i] for i in sorted(parts)]
    stats = LoadStats.merged(part[0] for part in ordered)
    return Merged(
        stats=stats,
        delivered_keys=[key for part in ordered for key in part[1]],
        wall=max(part[2] for part in ordered),
        cpu=sum(part[3] for part in ordered),
        prepare_s=max(part[4] for part in ordered),
        late=sum(part[5] for part in ordered),
    )
