"""``simulate(...)``: one call from a provider id (or a scenario) to a ``SimResult``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.durations import parse_duration
from harness.core.merge import deep_merge
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.network import NetworkOptions
from harness.probes import Probe
from harness.simulate.engine import Sender, SimConfig, run_simulation
from harness.simulate.outages import Outages, parse_outage
from harness.simulate.policy import RetryPolicy
from harness.simulate.results import SimResult
from harness.simulate.scenario import Scenario, load_scenario

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
    **options: Any,
) -> SimResult:
    """Simulate ``events`` deliveries (or a scenario) through the provider's retry policy.

    Without ``url`` (or with ``dry_run=True``) nothing is sent and the receiver is up outside the outages; with a
    ``url`` every attempt is a real request through the aiohttp volume transport. ``retry`` overrides keys of the
    profile's ``retry`` block; ``options`` go to ``SimConfig`` (``concurrency``, ``max_requests``, ``time_scale``...).
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
    config = SimConfig(
        provider=chosen,
        policy=RetryPolicy.from_profile(chosen, overrides),
        workload=loaded.workload(chosen, events) if loaded is not None else None,
        event_count=1000 if events is None else events,
        spread=parse_duration(spread, what="spread"),
        outages=Outages(windows),
        url=url,
        credentials=credentials,
        dry_run=dry,
        seed=(loaded.seed if loaded is not None else 0) if seed is None else seed,
        probe=None if dry else probe,
        **options,
    )
    if dry:
        return run_simulation(config)
    if send is not None:
        return run_simulation(config, send=send)
    from harness.transport.aio import AioTransport

    with AioTransport(concurrency=config.concurrency, network=network) as transport:
        return run_simulation(config, transport=transport)
