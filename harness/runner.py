"""The one engine behind the CLI and the pytest plugin: plan the checks, run them, collect the outcomes."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.catalog import Catalog, load_catalog
from harness.checks import (
    CHECKS,
    CheckContext,
    CheckOutcome,
    ordered_ids,
    resolve_severities,
    validate_settle_timeout,
)
from harness.credentials import Credentials, Redactor
from harness.errors import TransportError, UsageError
from harness.probes import Probe
from harness.report import redact_url
from harness.settle import DEFAULT_TIMEOUT as DEFAULT_SETTLE_TIMEOUT
from harness.signing import active_schemes
from harness.transport import RequestsTransport, Transport
from harness.violations import ContractViolation

__all__ = ["RunConfig", "RunResult", "plan", "run_check", "run_checks"]


@dataclass
class RunConfig:
    """Everything a contract run needs; the CLI and the pytest plugin both build one."""

    provider: str
    url: str
    credentials: Credentials = field(default_factory=Credentials)
    catalog: Catalog | None = None
    schemas_dir: str | None = None
    probe: Probe | None = None
    seed: int | None = None
    max_examples: int = 20
    timeout: float | None = None
    checks: Sequence[str] = ()
    exclude_checks: Sequence[str] = ()
    callback_host: str = "127.0.0.1"
    transport: Transport | None = None
    overrides: Mapping[str, Any] | None = None
    preflight: bool = True
    severities: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False
    fail_fast: bool = False
    settle_timeout: float = DEFAULT_SETTLE_TIMEOUT

    def resolved_catalog(self) -> Catalog:
        """The catalog to use."""
        if self.catalog is not None:
            return self.catalog
        self.catalog = load_catalog(self.schemas_dir, overrides=self.overrides)
        return self.catalog

    def resolved_seed(self) -> int:
        """The seed, drawn once if none was given."""
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(2**32)
        return self.seed


@dataclass
class RunResult:
    """The outcomes of a run and what the exit code is."""

    provider: str
    url: str
    seed: int
    outcomes: list[CheckOutcome]
    duration: float
    redactor: Redactor
    blocked_cause: str | None = None
    stopped_early: bool = False
    slowest_settle: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when no check failed or was blocked (warnings do not count), 1 otherwise."""
        return 1 if any(o.failed for o in self.outcomes) else 0


def plan(config: RunConfig) -> list[str]:
    """The selected check ids, in stable order; an unknown id is a usage error."""
    known = ordered_ids()
    for name in [*config.checks, *config.exclude_checks]:
        if name not in known:
            raise UsageError(f"Unknown check {name!r}. Known: {', '.join(known)}.")
    resolve_severities(config.severities, config.strict)
    validate_settle_timeout(config.settle_timeout)
    config.resolved_catalog().get(config.provider)
    chosen = [c for c in known if (not config.checks or c in config.checks) and c not in config.exclude_checks]
    return chosen


def _context(config: RunConfig) -> CheckContext:
    catalog = config.resolved_catalog()
    provider = catalog.get(config.provider)
    if not active_schemes(provider, config.credentials):
        wanted = ", ".join(provider.auth.schemes)
        raise UsageError(
            f"No credentials for {provider.id} ({wanted}): give --secret, --signing-key, --token-url/--client-id, "
            "--basic or --bearer (or the environment variables)."
        )
    scheme = urlsplit(config.url).scheme
    if config.transport is None and scheme not in ("http", "https"):
        raise UsageError(f"The receiver URL must start with http:// or https://, got {redact_url(config.url)!r}.")
    _validate_credentials(provider, config.credentials, local=True)
    _preflight(config)
    _validate_credentials(provider, config.credentials, local=False)
    redactor = Redactor(config.credentials.secrets())
    return CheckContext(
        provider=provider,
        catalog=catalog,
        url=config.url,
        credentials=config.credentials,
        transport=config.transport or RequestsTransport(),
        timeout=config.timeout if config.timeout is not None else provider.timeout,
        probe=config.probe,
        seed=config.resolved_seed(),
        max_examples=config.max_examples,
        callback_host=config.callback_host,
        redactor=redactor,
    )


def _validate_credentials(provider: Any, creds: Credentials, *, local: bool) -> None:
    """Load keys and decode secrets (``local``), or fetch an OAuth token: a bad credential is one line, up front."""
    from harness.core.models import Delivery

    probe = Delivery(provider.id, provider.method, {}, b"{}", (), ())
    for scheme in active_schemes(provider, creds):
        if scheme.signs_body == local:
            scheme.sign(provider, probe, creds, time.time())


def _preflight(config: RunConfig) -> None:
    """A receiver that cannot be reached at all is the user's problem (exit 2), not a finding."""
    if not config.preflight or config.transport is not None:
        return
    parts = urlsplit(config.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (exc.strerror or str(exc))
        raise TransportError(f"Cannot reach the receiver at {redact_url(config.url)}: {reason}.") from None


def run_check(config: RunConfig, check_id: str, *, context: CheckContext | None = None) -> CheckOutcome:
    """Run one check at its resolved severity (the pytest plugin makes one item of each)."""
    if check_id not in ordered_ids():
        raise UsageError(f"Unknown check {check_id!r}. Known: {', '.join(ordered_ids())}.")
    severity = resolve_severities(config.severities, config.strict)[check_id]
    ctx = context or _context(config)
    ctx.settle_timeout = validate_settle_timeout(config.settle_timeout)
    registered = CHECKS.get(check_id)
    started = time.perf_counter()
    before = len(ctx.exchanges)

    def done(status: str, violations: list[ContractViolation], notes: list[str]) -> CheckOutcome:
        outcome = CheckOutcome(check_id, registered.title, status, violations, notes, severity=severity)
        outcome.requests = len(ctx.exchanges) - before
        outcome.duration = time.perf_counter() - started
        return outcome

    if severity == "off":
        return done("skipped", [], ["severity off"])
    skip = registered.applies(ctx)
    if skip:
        return done("skipped", [], [skip])
    if registered.gated:
        cause = ctx.gate()
        if cause:
            return done("blocked", [], [cause])
    violations, notes = registered.run(ctx)
    status = "passed" if not violations else "warned" if severity == "warn" else "failed"
    return done(status, violations, notes)


def run_checks(
    config: RunConfig,
    on_result: Callable[[CheckOutcome], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
) -> RunResult:
    """Run every selected check; ``on_start`` sees the plan once inputs are valid, ``on_result`` each outcome.

    With ``config.fail_fast`` the run stops after the first failed or blocked check.
    """
    ids = plan(config)
    ctx = _context(config)
    if on_start:
        on_start(ids)
    started = time.perf_counter()
    outcomes = []
    stopped = False
    for index, check_id in enumerate(ids):
        outcome = run_check(config, check_id, context=ctx)
        outcomes.append(outcome)
        if on_result:
            on_result(outcome)
        if config.fail_fast and outcome.failed and index < len(ids) - 1:
            stopped = True
            break
    cause = next((o.notes[0] for o in outcomes if o.status == "blocked"), None)
    return RunResult(
        config.provider,
        config.url,
        ctx.seed,
        outcomes,
        time.perf_counter() - started,
        ctx.redactor,
        blocked_cause=cause,
        stopped_early=stopped,
        slowest_settle=ctx.slowest_settle,
    )
