"""``simulate(...)``: one call from a provider id (or a scenario) to a ``SimResult``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.durations import parse_duration
from harness.core.merge import deep_merge
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.net.options import NetworkOptions
from harness.probes.counts import Probe
from harness.probes.state import StateProbe
from harness.simulate.engine import MAX_EVENTS, Sender, SimConfig, run_simulation
from harness.simulate.engine import MAX_HELD as HELD
from harness.simulate.objects import ObjectPlan, lifecycle_units
from harness.simulate.outages import Outages, parse_outage
from harness.simulate.policy import RetryPolicy
from harness.simulate.results import SimResult
from harness.simulate.scenario import HELD_ENTITIES, HELD_EVENTS, MAX_ENTITIES, Scenario, load_scenario

__all__ = ["simulate"]


def simulate(
    provider: str | Provider | None = None,
    url: str | None = None,
    *,
    events: int | None = None,
    spread: str | float = "24h",
    outages: Iterable[str | tuple[float, float]] = (),
    scenario: str | Path | Scenario | None = None,
    credentials: Credentials | None = None,
    probe: Probe | None = None,
    retry: Mapping[str, Any] | None = None,
    seed: int | None = None,
    dry_run: bool | None = None,
    catalog: Catalog | None = None,
    send: Sender | None = None,
    network: NetworkOptions | None = None,
    lifecycle: str | None = None,
    out_of_order: float = 0.0,
    reorder_by: str | float = "5m",
    state_probe: StateProbe | None = None,
    state_fields: Sequence[str] = (),
    **options: Any,
) -> SimResult:
    """Simulate ``events`` deliveries (or a scenario) through the provider's retry policy.

    Without ``url`` (or with ``dry_run=True``) nothing is sent and the receiver is up outside the outages; with a
    ``url`` every attempt is a real request through the aiohttp volume transport. ``retry`` overrides keys of the
    profile's ``retry`` block; ``options`` go to ``SimConfig`` (``concurrency``, ``max_requests``, ``time_scale``,
    ``event_types``: the subscription, event type names or globs...).

    With ``lifecycle`` the events are that lifecycle's objects (``events`` // steps of them), a fraction
    ``out_of_order`` of their events delivered up to ``reorder_by`` late; with a ``state_probe`` the report says how
    many fully delivered objects the receiver ended up holding in the wrong state.
    """
    catalog = catalog or load_catalog()
    loaded = scenario if isinstance(scenario, Scenario) or scenario is None else load_scenario(scenario, catalog)
    if provider is None:
        if loaded is None:
            raise UsageError("simulate() needs a provider or a scenario.")
        provider = loaded.provider
    chosen = provider if isinstance(provider, Provider) else catalog.get(provider)
    if loaded is not None and loaded.provider != chosen.id:
        raise UsageError(f"The scenario is for {loaded.provider}, not {chosen.id}.")
    if events is not None and events > (MAX_ENTITIES if loaded is not None else HELD if lifecycle else MAX_EVENTS):
        what = "a scenario's entities" if loaded is not None else "lifecycle events" if lifecycle else "events"
        limit = MAX_ENTITIES if loaded is not None else HELD if lifecycle else MAX_EVENTS
        raise UsageError(f"Too many {what}: {events:,}; at most {limit:,}.")
    windows = [parse_outage(w) if isinstance(w, str) else w for w in outages]
    if not windows and loaded is not None:
        windows = list(loaded.outages)
    overrides = deep_merge(loaded.retry if loaded else {}, retry)
    dry = url is None if dry_run is None else dry_run
    if not dry and not url and send is None:
        raise UsageError("Give the receiver URL, or dry_run=True to send nothing.")
    credentials = credentials or Credentials()
    if not dry and send is None and url:
        from harness.preflight import check_credentials, preflight
        from harness.signing.oauth import TokenClients

        if not isinstance(credentials.tokens, TokenClients):  # token requests take the run's network options
            credentials = dataclasses.replace(credentials, tokens=TokenClients(network))
        check_credentials(chosen, credentials)
        preflight(url, network=network)
    objects: dict[str, Any] = {}
    if lifecycle is not None:
        if loaded is not None:
            raise UsageError("Give either a scenario or a lifecycle, not both.")
        if not 0.0 <= out_of_order <= 1.0:
            raise UsageError(f"Invalid out-of-order fraction {out_of_order!r}: from 0 to 1.")
        chosen_lifecycle = chosen.lifecycle(lifecycle)
        count = 1000 if events is None else events
        lag = parse_duration(reorder_by, what="reorder_by") if isinstance(reorder_by, str) else float(reorder_by)
        the_seed = 0 if seed is None else seed
        units, plan = lifecycle_units(
            chosen_lifecycle,
            max(1, count // len(chosen_lifecycle.steps)),
            parse_duration(spread, what="spread"),
            out_of_order,
            lag,
            the_seed,
        )
        objects = {
            "units": units,
            "objects": ObjectPlan(chosen, chosen_lifecycle, plan, the_seed, clock=time.time),
            "state_probe": None if dry else state_probe,
            "state_fields": tuple(state_fields),
        }
    policy = RetryPolicy.from_profile(chosen, overrides)
    streamed = (
        loaded is not None
        and dry
        and send is None
        and loaded.duplicates <= 0
        and not options.get("time_scale")
        and policy.on_exhausted != "disable-endpoint"
    )
    if loaded is not None and not streamed:
        entities = loaded.count if events is None else events
        if entities > HELD_ENTITIES or entities * len(loaded.steps) > HELD_EVENTS:
            raise UsageError(
                f"{entities:,} entities x {len(loaded.steps)} steps: a run that sends requests, uses --time-scale, "
                f"duplicates or a policy that disables the endpoint holds every event, so at most {HELD_ENTITIES:,} "
                f"entities and {HELD_EVENTS:,} events (a plain dry run streams up to {MAX_ENTITIES:,})."
            )
    scenario_times = None
    if streamed and loaded is not None:
        the_scenario = loaded
        scenario_times = lambda: the_scenario.times(events)  # noqa: E731
    if options.get("event_types"):  # a subscription: exact names or globs, each naming an event type
        from harness.volume import check_events

        options["event_types"] = check_events(chosen, options["event_types"])
    config = SimConfig(
        provider=chosen,
        policy=policy,
        workload=loaded.workload(chosen, events) if loaded is not None and not streamed else None,
        arrivals=scenario_times,
        plan_seed=loaded.seed if loaded is not None else None,
        event_count=1000 if events is None else events,
        spread=parse_duration(spread, what="spread"),
        outages=Outages(windows),
        url=url,
        credentials=credentials,
        dry_run=dry,
        seed=(loaded.seed if loaded is not None else 0) if seed is None else seed,
        probe=None if dry else probe,
        **objects,
        **options,
    )
    if dry:
        return run_simulation(config)
    if send is not None:
        return run_simulation(config, send=send)
    from harness.transport.aio import AioTransport

    with AioTransport(concurrency=config.concurrency, network=network) as transport:
        return run_simulation(config, transport=transport)
