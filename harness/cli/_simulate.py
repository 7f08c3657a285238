"""`webhook-harness simulate PROVIDER URL`: what do we lose if the receiver is down for N hours?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.cli._options import (
    add_auth_options,
    add_catalog_options,
    add_probe_options,
    catalog_from_args,
    config_from_args,
    credentials_from_args,
    non_negative_int,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `simulate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate",
        help="replay the provider's retry policy on a virtual clock",
        description="Every attempt is a real request (unless --dry-run); the time between attempts is virtual. "
        "Exit 0: nothing lost (and, with a probe, every event stored once); 1: otherwise; 2: usage error.",
    )
    parser.add_argument("provider", metavar="PROVIDER")
    parser.add_argument("url", metavar="URL", nargs="?", help="receiver URL (not needed with --dry-run)")
    parser.add_argument("--events", type=non_negative_int, help="events to simulate (default 1000, or the scenario's)")
    parser.add_argument("--spread", default="24h", help="arrivals spread over this long (default 24h)")
    parser.add_argument("--outage", action="append", default=[], metavar="START..END", help="e.g. 2h..8h (repeat)")
    parser.add_argument("--scenario", metavar="FILE", help="a scenario file (see docs/scenarios.md)")
    parser.add_argument("--dry-run", action="store_true", help="send nothing; the receiver is up outside outages")
    parser.add_argument("--time-scale", type=float, help="run in scaled real time (soak), e.g. 60 = 1 min per s")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--report", metavar="PATH", help="JSON report")
    parser.add_argument("--timeline", metavar="PATH", help="self-contained HTML/SVG timeline of attempts")
    parser.add_argument("--concurrency", type=non_negative_int, default=64, help="parallel requests (default 64)")
    parser.add_argument("--max-requests", type=non_negative_int, default=100_000, help="stop after this many")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_auth_options(parser)
    add_probe_options(parser)
    add_catalog_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the simulation from options and scenario, run it, print and write the results."""
    from harness.core.durations import parse_duration
    from harness.errors import UsageError
    from harness.probes import make_probe
    from harness.simulate import (
        Outages,
        RetryPolicy,
        SimConfig,
        load_scenario,
        parse_outage,
        run_simulation,
        write_timeline,
    )

    config_file = config_from_args(args)
    catalog = catalog_from_args(args, config_file)
    provider = catalog.get(args.provider)
    scenario = load_scenario(args.scenario, catalog) if args.scenario else None
    if scenario and scenario.provider != provider.id:
        raise UsageError(f"The scenario is for {scenario.provider}, not {provider.id}.")
    windows = [parse_outage(text) for text in args.outage] or (scenario.outages if scenario else [])
    if not args.dry_run and not args.url:
        raise UsageError("Give the receiver URL, or --dry-run to send nothing.")
    if args.time_scale is not None and args.time_scale <= 0:
        raise UsageError("--time-scale must be positive.")
    creds = credentials_from_args(args, config_file)
    probe = None if args.dry_run else make_probe(args.probe_url, args.probe_db, args.probe_sql)
    units = scenario.units(provider, args.events) if scenario else None
    try:
        spread = parse_duration(args.spread)
    except ValueError:
        raise UsageError(f"Invalid --spread {args.spread!r}: durations look like 90s, 30m, 6h or 2d.") from None
    progress_bar = None
    if not args.quiet and not args.dry_run and sys.stderr.isatty():
        from tqdm import tqdm

        progress_bar = tqdm(total=args.max_requests, unit="req", file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if progress_bar is not None:
            progress_bar.n = done
            progress_bar.refresh()

    sim = SimConfig(
        provider=provider,
        policy=RetryPolicy.from_provider(provider),
        units=units,
        event_count=args.events if args.events is not None else 1000,
        spread=spread,
        outages=Outages(windows),
        url=args.url,
        credentials=creds,
        dry_run=args.dry_run,
        seed=args.seed if not scenario or args.seed else scenario.seed,
        probe=probe,
        concurrency=max(1, args.concurrency),
        max_requests=args.max_requests,
        time_scale=args.time_scale,
        progress=progress,
    )
    if args.dry_run:
        result = run_simulation(sim)
    else:
        from harness.signing import active_schemes
        from harness.transport.aio import AioTransport

        if not active_schemes(provider, creds):
            raise UsageError(f"No credentials for {provider.id}: give the same auth options as for check.")
        with AioTransport(concurrency=sim.concurrency) as transport:
            result = run_simulation(sim, send=transport.send_many)
    if progress_bar is not None:
        progress_bar.close()
    if scenario:
        print(f"scenario {scenario.name} ({scenario.path})")
    print(result.render())
    if result.requests == 0 and not args.dry_run:
        print("note: no request reached the receiver", file=sys.stderr)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"Report written to {args.report}")
    if args.timeline:
        print(f"Timeline written to {write_timeline(result, args.timeline)}")
    return result.exit_code
