"""``run_load(...)``: play a schedule against a receiver (in one or more processes), probe, and judge the gates."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

from harness.credentials import Redactor, without_userinfo
from harness.errors import UsageError
from harness.load.engine import LoadConfig, check_reachable, play
from harness.load.processes import ChildSpec, run_processes
from harness.load.report import LoadResult, ProbeOutcome
from harness.load.slo import Gate, evaluate
from harness.load.stats import LoadStats
from harness.probes.counts import Probe

__all__ = ["Progress", "probe_keys", "run_load"]

Progress = Callable[[int, int, int, float, float], None]  # (sent, errors, dropped, p99 ms, elapsed s)


def probe_keys(
    probe: Probe,
    keys: list[str],
    *,
    sample: int = 1000,
    seed: int = 0,
    settle: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> ProbeOutcome:
    """After ``settle`` seconds, ask the probe for every key (or a seeded sample of ``sample``): stored once?"""
    if settle > 0:
        sleep(settle)
    chosen = keys if sample <= 0 or len(keys) <= sample else random.Random(seed).sample(keys, sample)
    once, missing, duplicated = 0, [], []
    for key in chosen:
        count = probe.count(key)
        if count == 1:
            once += 1
        elif count == 0:
            missing.append(key)
        else:
            duplicated.append(key)
    return ProbeOutcome(
        description=probe.describe(),
        delivered_keys=len(keys),
        checked=len(chosen),
        once=once,
        missing=missing,
        duplicated=duplicated,
        settle_s=settle,
    )


def run_load(
    config: LoadConfig,
    *,
    processes: int = 1,
    gates: list[Gate] | None = None,
    probe: Probe | None = None,
    probe_sample: int = 1000,
    settle: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    catalog_source: tuple[str | None, dict[str, Any] | None] = (None, None),
    progress: Progress | None = None,
    check_receiver: bool = True,
    details: dict[str, Any] | None = None,
) -> LoadResult:
    """Play ``config.schedule`` against ``config.url``; ``processes`` > 1 splits it by delivery over processes."""
    if processes < 1:
        raise UsageError(f"--processes must be at least 1, got {processes}.")
    if config.concurrency is not None and config.concurrency < processes:
        raise UsageError(f"--concurrency ({config.concurrency}) must be at least --processes ({processes}).")
    if config.connections is not None and config.connections < processes:
        raise UsageError(f"--connections ({config.connections}) must be at least --processes ({processes}).")
    cap, pool = config.in_flight_cap, config.pool  # the defaults follow the whole schedule, before any split
    if check_receiver and not (config.network.proxy or config.network.trust_env):  # a proxy decides what it reaches
        check_reachable(config.url)
    schedule = config.schedule
    if processes == 1:
        if progress is not None:

            def tick(stats: LoadStats, elapsed: float) -> None:
                progress(
                    stats.sent, stats.answered - stats.succeeded, stats.dropped, stats.latency_ms()["p99"], elapsed
                )

            config = replace(config, progress=tick)
        run = play(config)
        interrupted = run.interrupted
        stats, keys, wall, cpu, prepare_s, late = (
            run.stats,
            run.delivered_keys(),
            run.wall,
            run.cpu,
            run.prepare_s,
            run.late,
        )
    else:
        schemas, overrides = catalog_source
        # the config's picklable part; each child rebuilds the provider from its folder (a Provider does not pickle)
        shared = {f.name: getattr(config, f.name) for f in fields(LoadConfig) if f.name not in ("provider", "progress")}
        specs = [
            ChildSpec(
                provider=config.provider.id,
                schemas=schemas,
                overrides=overrides,
                settings={
                    **shared,
                    "schedule": schedule.share(index, processes),
                    "concurrency": max(1, cap // processes),
                    "connections": max(1, pool // processes),
                    "seed": config.seed * 1_000_003 + index,
                },
                index=index,
            )
            for index in range(processes)
        ]
        merged = run_processes(
            specs, deadline_s=schedule.duration + config.request_timeout + config.grace + 60.0, progress=progress
        )
        interrupted = merged.interrupted
        stats, keys, wall, cpu, prepare_s, late = (
            merged.stats,
            merged.delivered_keys,
            merged.wall,
            merged.cpu,
            merged.prepare_s,
            merged.late,
        )
    redact = Redactor(config.credentials.secrets())
    result = LoadResult(
        provider=config.provider.id,
        url=redact(without_userinfo(config.url)),
        mode=schedule.label,
        target_rate=schedule.target_rate,
        duration_s=schedule.duration,
        scheduled=schedule.starts,
        stats=stats,
        target_series=schedule.per_second(),
        wall_s=wall,
        cpu_s=cpu,
        prepare_s=prepare_s,
        processes=processes,
        concurrency=cap,
        connections=pool,
        late=late,
        details=details or {},
        interrupted=interrupted,
    )
    if probe is not None and not interrupted:  # after Ctrl-C the user wants out now: no probe round
        result.probe = probe_keys(probe, keys, sample=probe_sample, seed=config.seed, settle=settle, sleep=sleep)
    result.slo = evaluate(
        gates or [],
        p99_ms=stats.latency_ms()["p99"],
        error_rate_pct=result.error_rate_pct,
        achieved_pct=result.achieved_pct,
    )
    return result
