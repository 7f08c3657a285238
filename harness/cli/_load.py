"""`webhook-harness load PROVIDER URL`: an open-model load run, or the recovery storm, with SLO gates for CI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.cli._options import add_command_options, add_settings, run_config_from_args

if TYPE_CHECKING:
    from harness.settings.resolve import RunConfig

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `load` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "load",
        help="send signed deliveries at a scheduled rate (open model), or the recovery storm after an outage",
        description="Requests start on schedule whatever the receiver does; a start the --concurrency cap refuses "
        "is counted as dropped. Exit 0: every SLO held (and, with a probe, each delivered event stored once); "
        "1: one did not; 2: bad input or an unreachable receiver.",
    )
    add_settings(parser)  # [PROVIDER] [URL], --seed (default 0 here), --timeout, --report, credentials, probe, network
    add_command_options(parser)  # --rate, --duration, ... : the settings table's "load" entries
    parser.set_defaults(run=run)


def _progress_line(
    args: argparse.Namespace,
) -> tuple[Callable[[int, int, int, float, float], None] | None, Callable[[], None]]:
    """A live line on stderr (rate, p99, errors), only on a terminal and without --quiet."""
    if args.quiet or not sys.stderr.isatty():
        return None, lambda: None
    last = [0, 0.0]

    def show(sent: int, errors: int, dropped: int, p99: float, elapsed: float) -> None:
        rate = (sent - last[0]) / max(1e-6, elapsed - last[1])
        last[0], last[1] = sent, elapsed
        sys.stderr.write(
            f"\r{elapsed:6.0f}s  sent {sent:,}  {rate:,.0f}/s  p99 {p99:.1f}ms  "
            f"errors {errors:,}  dropped {dropped:,}  "
        )
        sys.stderr.flush()

    def close() -> None:
        sys.stderr.write("\n")

    return show, close


def run(args: argparse.Namespace) -> int:
    """Build the schedule from options, run it, print and write the results."""
    from harness.engine.session import Session
    from harness.errors import UsageError
    from harness.load import (
        Gate,
        LoadConfig,
        open_schedule,
        parse_gates,
        parse_ramp,
        run_load,
        storm_schedule,
        write_html,
        write_json,
    )
    from harness.load.source import check_events

    limit = (os.cpu_count() or 1) * 4
    if args.processes > limit:
        raise UsageError(f"--processes {args.processes} is more than 4x the {os.cpu_count()} CPUs here ({limit}).")
    duration = args.duration
    ramp = parse_ramp(args.ramp) if args.ramp else None
    if ramp is None and args.rate <= 0:
        raise UsageError(f"--rate must be above 0, got {args.rate:g}.")
    settle = args.settle
    if args.time_scale <= 0:
        raise UsageError(f"--time-scale must be positive, got {args.time_scale:g}.")
    gates = parse_gates(
        args.max_p99,
        args.max_error_rate,
        args.min_rate_achieved,
        defaults=not args.no_gates and not args.after_outage and not args.locust,
    )
    settings = run_config_from_args(args, "load")
    seed = settings.resolved_seed() if "seed" in settings.given else 0
    session = Session(settings)
    provider = session.provider
    events = check_events(provider, args.event)
    creds = session.credentials
    session.check_credentials()
    if args.locust:
        return _run_locust(args, settings, duration)
    probe = session.probe
    details: dict[str, Any] = {"seed": seed}
    if args.after_outage:
        if ramp is not None:
            raise UsageError("--ramp and --after-outage do not go together: the storm's shape is the provider's.")
        if args.duplicates or args.servers != 1:
            raise UsageError(
                "--duplicates and --servers shape the open-model run; with --after-outage the resends are the "
                "provider's own retries and the batches are one server's."
            )
        outage = args.after_outage
        backlog = args.rate if args.backlog_rate is None else args.backlog_rate
        schedule = storm_schedule(
            provider,
            outage=outage,
            rate=args.rate,
            backlog_rate=backlog,
            duration=duration,
            time_scale=args.time_scale,
            seed=seed,
        )
        details.update(outage_s=outage, backlog_rate=backlog, new_rate=args.rate, time_scale=args.time_scale)
        if not gates:  # "will our receiver survive coming back?": the provider's own patience is the default gate
            gates = [Gate("max-p99", provider.timeout * 1000.0), Gate("max-error-rate", 1.0)]
        reason = "connection_failed"
    else:
        if args.time_scale != 1.0 or args.backlog_rate is not None:
            raise UsageError("--time-scale and --backlog-rate belong to --after-outage.")
        if args.servers != 1 and provider.body.shape != "batch":
            raise UsageError(f"--servers shapes batches; {provider.id} posts one event per request.")
        schedule = open_schedule(
            provider,
            rate=args.rate,
            duration=duration,
            ramp=ramp,
            duplicates=args.duplicates,
            servers=args.servers,
            seed=seed,
        )
        details.update(ramp=list(ramp) if ramp else None, duplicates=args.duplicates, servers=args.servers)
        reason = "http_timeout"
    details["resends"] = sum(1 for k in schedule.attempts if k > 1)
    config = LoadConfig(
        provider=provider,
        url=settings.url,
        schedule=schedule,
        credentials=creds,
        events=events,
        concurrency=args.concurrency,
        connections=args.connections,
        timeout=settings.timeout,
        network=settings.network,
        seed=seed,
        resend_reason=reason,
    )
    progress, close = _progress_line(args)
    try:
        result = run_load(
            config,
            processes=args.processes,
            gates=gates,
            probe=probe,
            probe_sample=args.probe_sample,
            settle=settle if probe is not None else 0.0,
            catalog_source=(settings.schemas_dir, dict(settings.overrides) if settings.overrides else None),
            progress=progress,
            details=details,
        )
    finally:
        close()
    print(result.render())
    if settings.report:
        print(f"Report written to {write_json(result, settings.report)}")
    if args.html:
        print(f"HTML written to {write_html(result, args.html)}")
    return result.exit_code


def _locust_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("locust") is not None
    except (ImportError, ValueError):
        return False


def _run_locust(args: argparse.Namespace, settings: RunConfig, duration: float) -> int:
    """``--locust``: the bundled WebhookUser, headless on this machine, in a Locust process of its own."""
    import math
    import subprocess
    from pathlib import Path
    from urllib.parse import urlsplit

    from harness.core.settings_table import ENV_PREFIX
    from harness.errors import UsageError
    from harness.settings.resolve import settings_env

    if not _locust_installed():
        raise UsageError("Locust is not installed: pip install 'webhook-harness[locust]'.")
    unsupported = [
        name
        for name, given in (
            ("--after-outage", args.after_outage),
            ("--ramp", args.ramp),
            ("--max-p99", args.max_p99),
            ("--min-rate-achieved", args.min_rate_achieved),
            ("--servers", args.servers != 1),
            ("--probe-sample", args.probe_sample != 1000),
            ("--connections", args.connections is not None),
            ("--report", settings.report),
            ("--html", args.html),
            ("--probe-url", settings.given.get("probe_url")),
            ("--probe-db", settings.given.get("probe_db")),
        )
        if given
    ]
    if unsupported:
        raise UsageError(f"{', '.join(unsupported)} do not go with --locust: use Locust's own options for that.")
    parts = urlsplit(settings.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    # every resolved credential and network setting travels in its table variable; the user resolves them alike
    env.update(settings_env(settings))
    users = args.concurrency or 256  # Locust users share the rate; the in-flight cap's default is not theirs
    env.update(
        WEBHOOK_HARNESS_PROVIDER=settings.provider,
        WEBHOOK_HARNESS_PATH=parts.path or "/",
        WEBHOOK_HARNESS_EVENTS=",".join(args.event),
        WEBHOOK_HARNESS_DUPLICATES=str(args.duplicates),
        WEBHOOK_HARNESS_USER_RATE=str(args.rate / users),
    )
    command = [sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve().parents[1] / "_locustfile.py")]
    command += ["--headless", "-u", str(users), "-r", str(users), "--run-time", f"{math.ceil(duration)}s"]
    command += ["--host", f"{parts.scheme}://{parts.netloc}", "--stop-timeout", "30", "--only-summary"]
    if args.processes > 1:
        command += ["--processes", str(args.processes)]
    from harness.load.slo import DEFAULT_GATES, parse_percent

    limit = parse_percent(args.max_error_rate, "--max-error-rate") if args.max_error_rate else DEFAULT_GATES.error_rate
    if args.no_gates and not args.max_error_rate:
        limit = 100.0  # only "no request succeeded" still fails
    import tempfile

    with tempfile.TemporaryDirectory(prefix="webhook-harness-locust-") as scratch:
        command += ["--csv", str(Path(scratch) / "run")]
        try:
            done = subprocess.run(command, env=env, timeout=duration + 600, check=False)
        except subprocess.TimeoutExpired:
            print("webhook-harness: Locust did not finish in time", file=sys.stderr)
            return 1
        requests, failures = _locust_totals(Path(scratch) / "run_stats.csv")
    return _locust_verdict(done.returncode, requests, failures, limit)


def _locust_totals(path: Any) -> tuple[int, int]:
    """The Aggregated row of Locust's ``--csv`` statistics: (requests, failures); (0, 0) when there is none."""
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") == "Aggregated":
                    return int(row.get("Request Count") or 0), int(row.get("Failure Count") or 0)
    except (OSError, ValueError):
        pass
    return 0, 0


def _locust_verdict(returncode: int, requests: int, failures: int, limit_pct: float) -> int:
    """Exit 1 when Locust failed, no request succeeded, or the failure ratio is over the gate; one line says why."""
    succeeded = requests - failures
    ratio = 100.0 * failures / requests if requests else 0.0
    if succeeded <= 0:
        print(f"FAIL: no request succeeded ({requests} completed, {failures} failed)", file=sys.stderr)
        return 1
    if ratio > limit_pct:
        print(
            f"FAIL: {ratio:.2f}% of {requests} requests failed (over --max-error-rate {limit_pct:g}%)", file=sys.stderr
        )
        return 1
    return 0 if returncode == 0 else 1
