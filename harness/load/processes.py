"""``--processes P``: the schedule split by delivery over P sender processes that start together, results merged."""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.load.stats import LoadStats

__all__ = ["ChildSpec", "Merged", "run_processes"]

_READY_TIMEOUT = 600.0  # building the deliveries of one share
_PR_SET_PDEATHSIG = 1
_INTERRUPT_GRACE = 10.0  # seconds the senders get, after Ctrl-C, to report what they counted


def _die_with(parent: int) -> None:
    """End this sender when its parent ends, however it ends (SIGKILL included): no orphan traffic.

    Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); elsewhere, and for a parent that died
    before that was set, a watchdog thread notices the new parent id.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


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
    interrupted: bool = False


def _child(spec: ChildSpec, barrier: Any, results: Any, parent: int) -> None:
    """One sender process: build its share, wait for the others, play, report."""
    _die_with(parent)
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
            (
                "done",
                spec.index,
                run.stats.to_wire(),
                run.delivered_keys(),
                run.wall,
                run.cpu,
                run.prepare_s,
                run.late,
                run.interrupted,
            )
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
    procs = [ctx.Process(target=_child, args=(spec, barrier, results, os.getpid()), daemon=True) for spec in specs]
    parts: dict[int, tuple[Any, ...]] = {}
    ticks: dict[int, tuple[int, int, int, float]] = {}
    interrupted = False
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
                if interrupted:
                    break  # what the senders that answered counted is the partial result
                raise HarnessError(f"The sender processes did not finish within {deadline_s:.0f}s.")
            try:
                message = results.get(timeout=min(remaining, 1.0))
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True  # stop the senders (a terminal's Ctrl-C reached them too) and collect their counts
                for proc in procs:
                    if proc.is_alive() and proc.pid is not None:
                        os.kill(proc.pid, signal.SIGINT)
                end = time.monotonic() + _INTERRUPT_GRACE
                continue
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
    if not ordered:
        raise KeyboardInterrupt
    stats = LoadStats.merged(part[0] for part in ordered)
    return Merged(
        stats=stats,
        delivered_keys=[key for part in ordered for key in part[1]],
        wall=max(part[2] for part in ordered),
        cpu=sum(part[3] for part in ordered),
        prepare_s=max(part[4] for part in ordered),
        late=sum(part[5] for part in ordered),
        interrupted=interrupted or any(part[6] for part in ordered) or len(ordered) < len(specs),
    )
