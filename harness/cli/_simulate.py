"""`webhook-harness simulate PROVIDER URL`: what do we lose if the receiver is down for N hours?"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

from harness.cli._options import add_command_options, add_settings, run_config_from_args
from harness.generation.passthrough import DEFAULT_RATE as PASS_THROUGH_RATE

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `simulate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate",
        help="replay the provider's retry policy on a virtual clock",
        description="Every attempt is a real request (unless --dry-run); the time between attempts is virtual. "
        "Exit 0: nothing lost (and, with a probe, every event stored once); 1: otherwise; 2: usage error.",
    )
    add_settings(parser)  # [PROVIDER] [URL] (not needed with --dry-run), --seed, --report, credentials, probe, network
    add_command_options(parser)  # --events, --spread, --outage, ...: the settings table's "simulate" entries
    parser.set_defaults(run=run)


def _retry_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The --window/--max-attempts/--delays/... options as keys of a profile's ``retry`` block."""
    retry: dict[str, Any] = {}
    backoff: dict[str, Any] = {}
    if args.window is not None:
        retry["window"] = None if args.window == "none" else args.window
    if args.max_attempts is not None:
        retry["max_attempts"] = args.max_attempts or None
    if args.delays is not None:
        backoff["delays"] = list(args.delays)
    if args.factor is not None:
        backoff["factor"] = args.factor
    if args.max_delay is not None:
        backoff["max_delay"] = args.max_delay
    if args.jitter is not None:
        backoff["jitter"] = args.jitter
    if backoff:
        retry["backoff"] = backoff
    return retry


def _progress_bar(args: argparse.Namespace) -> tuple[Callable[[float, float], None] | None, Callable[[], None]]:
    """A tqdm bar on stderr in virtual hours, only on a terminal and without --quiet."""
    if args.quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(
        total=1.0, unit="h virtual", file=sys.stderr, leave=True, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} h"
    )

    def update(done: float, horizon: float) -> None:
        bar.total = round(max(horizon, done, 1.0) / 3600, 1)
        bar.n = round(done / 3600, 1)
        bar.refresh()

    def finish() -> None:
        """The run is over, however early the last event settled: the bar ends full and stays on screen."""
        bar.n = bar.total
        bar.refresh()
        bar.close()

    return update, finish


def _probe_bar(args: argparse.Namespace) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """The probe phase's own bar (events looked up), only on a terminal and without --quiet."""
    if args.quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit=" events", desc="probe", file=sys.stderr, leave=True))
        bars[0].n = done
        bars[0].refresh()

    def close() -> None:
        for bar in bars:
            bar.close()

    return update, close


def run(args: argparse.Namespace) -> int:
    """Resolve options, then run ``harness.simulate.simulate()`` (the one API), print and write the results."""
    from harness.engine.session import Session
    from harness.errors import UsageError
    from harness.report import write_text
    from harness.simulate import load_scenario, parse_outage, simulate
    from harness.simulate.timeline import write_timeline

    try:
        outages = [parse_outage(text) for text in args.outage]
    except UsageError as exc:
        raise UsageError(f"--outage: {exc}") from None
    settings = run_config_from_args(args, "simulate", require_target=False)
    if not settings.provider:
        raise UsageError(
            "No provider: name one (the PROVIDER argument, WEBHOOK_HARNESS_PROVIDER, or provider in the config file)."
        )
    url = None if args.dry_run else settings.url or None
    if not args.dry_run and not url:
        raise UsageError("Give the receiver URL, or --dry-run to send nothing.")
    session = Session(settings)
    catalog = session.catalog
    provider = session.provider
    if settings.timeout is not None:  # how long the simulated provider waits for an answer
        provider = dataclasses.replace(provider, timeout=settings.timeout)
    scenario = load_scenario(args.scenario, catalog) if args.scenario else None
    if scenario and scenario.provider != provider.id:
        raise UsageError(f"The scenario {args.scenario} is for {scenario.provider}, not {provider.id}.")
    progress, close_bar = _progress_bar(args)
    probe_progress, close_probe_bar = _probe_bar(args)
    try:
        result = simulate(
            provider,
            url,
            events=args.events,
            spread=args.spread,
            outages=outages,
            scenario=scenario,
            credentials=session.credentials,
            probe=None if args.dry_run else session.probe,
            retry=_retry_overrides(args),
            seed=settings.seed if "seed" in settings.given else None,
            dry_run=args.dry_run,
            catalog=catalog,
            concurrency=max(1, args.concurrency),
            max_requests=args.max_requests,
            max_wall=args.max_time,
            time_scale=args.time_scale,
            progress=progress,
            probe_sample=args.probe_sample,
            probe_progress=probe_progress,
            network=settings.network,
            pass_through_rate=PASS_THROUGH_RATE if args.pass_through_rate is None else args.pass_through_rate,
            lifecycle=args.lifecycle,
            out_of_order=args.out_of_order,
            reorder_by=args.reorder_by,
            state_probe=None if args.dry_run else settings.state_probe,
            state_fields=settings.state_fields,
            event_types=tuple(args.event),
        )
    finally:
        close_bar()
        close_probe_bar()
    if scenario:
        print(f"scenario {scenario.name} ({scenario.path})")
    print(result.render())
    if not args.dry_run and result.requests == 0:
        print("note: no request reached the receiver", file=sys.stderr)
    if settings.report:
        target = write_text(json.dumps(result.to_json(), indent=2) + "\n", settings.report)
        print(f"Report written to {target}")
    if args.timeline:
        print(f"Timeline written to {write_timeline(result, args.timeline)}")
    return result.exit_code
