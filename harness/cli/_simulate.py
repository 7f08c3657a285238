"""`webhook-harness simulate PROVIDER URL`: what do we lose if the receiver is down for N hours?"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

from harness.cli._options import (
    MAX_EVENTS,
    MAX_SPAN,
    add_settings,
    bounded_int,
    duration,
    duration_list,
    fraction,
    non_negative_int,
    positive_number,
    run_config_from_args,
)
from harness.generation.passthrough import DEFAULT_RATE as PASS_THROUGH_RATE

__all__ = ["register", "run"]


def _outage(text: str) -> tuple[float, float]:
    """argparse type: ``START..END``."""
    from harness.errors import UsageError
    from harness.simulate import parse_outage

    try:
        return parse_outage(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _window(text: str) -> float | str:
    """argparse type: a duration, or ``none`` for no window."""
    return "none" if text.strip().lower() == "none" else duration("--window")(text)


def register(sub: Any) -> None:
    """Add the `simulate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate",
        help="replay the provider's retry policy on a virtual clock",
        description="Every attempt is a real request (unless --dry-run); the time between attempts is virtual. "
        "Exit 0: nothing lost (and, with a probe, every event stored once); 1: otherwise; 2: usage error.",
    )
    add_settings(parser)  # [PROVIDER] [URL] (not needed with --dry-run), --seed, --report, credentials, probe, network
    parser.add_argument(
        "--events",
        type=bounded_int(MAX_EVENTS),
        help=f"events to simulate (default 1000, or the scenario's entities; at most {MAX_EVENTS:,} in a dry run, "
        "100,000,000 scenario entities, 1,000,000 where every event is held: a URL, --time-scale, a lifecycle)",
    )
    parser.add_argument(
        "--spread",
        type=duration("--spread"),
        default="24h",
        help="events arrive uniformly over this long (default 24h)",
    )
    parser.add_argument(
        "--outage",
        type=_outage,
        action="append",
        default=[],
        metavar="START..END",
        help="receiver down, from t=0: 2h..8h (repeat)",
    )
    parser.add_argument("--scenario", metavar="FILE", help="a scenario file (see docs/scenarios.md)")
    parser.add_argument("--dry-run", action="store_true", help="send nothing; the receiver is up outside outages")
    parser.add_argument(
        "--time-scale", type=positive_number(1e9), metavar="X", help="scaled real time for soak runs: X virtual s per s"
    )
    parser.add_argument("--timeline", metavar="PATH", help="write a self-contained HTML/SVG timeline of attempts")
    parser.add_argument(
        "--concurrency", type=bounded_int(1024, low=1), default=64, help="parallel requests (default 64, at most 1024)"
    )
    parser.add_argument(
        "--max-requests", type=non_negative_int, default=100_000, help="stop after this many requests (100000)"
    )
    parser.add_argument(
        "--max-time",
        type=duration("--max-time", MAX_SPAN, positive=True),
        default="10m",
        metavar="DURATION",
        help="stop after this long in real time",
    )
    parser.add_argument(
        "--probe-sample",
        type=non_negative_int,
        default=2000,
        metavar="N",
        help="look up at most N delivered events with the probe, a seeded sample (default 2000; 0: every one)",
    )
    parser.add_argument(
        "--pass-through-rate",
        type=fraction,
        default=None,
        metavar="FRACTION",
        help="share of events carrying one unusual value a person typed (NUL, emoji, RTL marks, 10 KB, 2^53+1) in a "
        "field the profile names (default 0.01; 0: off)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    objects = parser.add_argument_group("lifecycle objects (with a state probe: how many end in the wrong state)")
    objects.add_argument("--lifecycle", metavar="NAME", help="send this lifecycle's objects (--events // steps)")
    objects.add_argument(
        "--out-of-order", type=fraction, default=0.0, help="fraction of their events delivered late (default 0)"
    )
    objects.add_argument(
        "--reorder-by", type=duration("--reorder-by"), default=300.0, metavar="DURATION", help="up to how late (5m)"
    )
    policy = parser.add_argument_group("retry policy overrides (default: the provider's profile)")
    policy.add_argument("--window", type=_window, metavar="DURATION", help="rolling retry window per event, or 'none'")
    policy.add_argument("--max-attempts", type=non_negative_int, help="total attempts including the first (0: no cap)")
    policy.add_argument(
        "--delays",
        type=duration_list("--delays"),
        metavar="D,D,...",
        help="waits after the 1st, 2nd, ... failure: 1m,5m,30m",
    )
    policy.add_argument(
        "--factor", type=positive_number(1000), help="multiply the last delay by this once the list ends"
    )
    policy.add_argument("--max-delay", type=duration("--max-delay"), metavar="DURATION", help="cap on a single wait")
    policy.add_argument("--jitter", type=fraction, help="± fraction applied to each wait (0.1)")
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
        backoff["delays"] = args.delays
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
    from harness.core.durations import parse_duration
    from harness.engine.session import Session
    from harness.errors import UsageError
    from harness.report import write_text
    from harness.simulate import load_scenario, simulate
    from harness.simulate.timeline import write_timeline

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
            spread=parse_duration(args.spread, what="--spread"),
            outages=args.outage,
            scenario=scenario,
            credentials=session.credentials,
            probe=None if args.dry_run else session.probe,
            retry=_retry_overrides(args),
            seed=settings.seed if "seed" in settings.given else None,
            dry_run=args.dry_run,
            catalog=catalog,
            concurrency=max(1, args.concurrency),
            max_requests=args.max_requests,
            max_wall=parse_duration(args.max_time, what="--max-time"),
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
