"""The recovery storm: what the provider sends once the receiver is back from an outage, from the retry simulator.

Events keep arriving during the outage (``backlog_rate`` per second) and after it (``rate``); the simulator replays
the provider's retry policy over them, with the receiver down during the outage and up after it. Every attempt that
falls in the ``duration`` after recovery is a start of the load run: the backlog's retries (same keys, fresh
signatures, the provider's retry headers) and the new traffic, in real time or compressed by ``time_scale``.
"""

from __future__ import annotations

from array import array

from harness.catalog import Provider
from harness.errors import UsageError
from harness.load.schedule import MAX_STARTS, Schedule
from harness.simulate.engine import SimConfig, attempt_schedule
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy
from harness.simulate.workload import Workload

__all__ = ["MAX_STORM_EVENTS", "storm_schedule"]

MAX_STORM_EVENTS = 2_000_000  # events the simulator replays for one storm


def storm_schedule(
    provider: Provider,
    *,
    outage: float,
    rate: float,
    backlog_rate: float,
    duration: float,
    time_scale: float = 1.0,
    seed: int = 0,
    policy: RetryPolicy | None = None,
) -> Schedule:
    """The starts in the ``duration`` (virtual seconds) after an ``outage`` (seconds), scaled to real time."""
    policy = policy or RetryPolicy.from_profile(provider)
    if len(policy.schedule()) < 2:
        raise UsageError(f"{provider.id} does not retry failed deliveries, so an outage leaves no backlog to replay.")
    if outage <= 0 or duration <= 0:
        raise UsageError("--after-outage and --duration must be positive.")
    if rate < 0 or backlog_rate < 0 or rate + backlog_rate <= 0:
        raise UsageError("--rate and --backlog-rate must not be negative, nor both 0.")
    if time_scale <= 0:
        raise UsageError(f"--time-scale must be positive, got {time_scale:g}.")
    during, after = int(backlog_rate * outage), int(rate * duration)
    if during + after > MAX_STORM_EVENTS:
        raise UsageError(
            f"That storm replays {during + after:,} events; the limit is {MAX_STORM_EVENTS:,} "
            "(lower --backlog-rate, --rate or --after-outage)."
        )
    times = array("d", [i / backlog_rate for i in range(during)]) if during else array("d")
    times.extend(outage + i / rate for i in range(after))
    workload = Workload.from_events(times, provider, seed=seed)
    config = SimConfig(provider, policy=policy, workload=workload, outages=Outages([(0.0, outage)]), seed=seed)
    _, at, units, attempts = attempt_schedule(config)
    end = outage + duration
    keep = [i for i, t in enumerate(at) if outage <= t < end]
    if len(keep) > MAX_STARTS:
        raise UsageError(f"That storm starts {len(keep):,} requests; the limit is {MAX_STARTS:,}.")
    renumber: dict[int, int] = {}
    for i in keep:
        renumber.setdefault(units[i], len(renumber))
    sizes = array("l", [0]) * len(renumber)
    for old, new in renumber.items():
        sizes[new] = workload.unit_size(old)
    real = duration / time_scale
    events = sum(sizes[renumber[units[i]]] for i in keep)
    return Schedule(
        times=array("d", [(at[i] - outage) / time_scale for i in keep]),
        units=array("q", [renumber[units[i]] for i in keep]),
        attempts=array("l", [attempts[i] for i in keep]),
        unit_sizes=sizes,
        duration=real,
        target_rate=events / real if real > 0 else 0.0,
        label="storm",
    )
