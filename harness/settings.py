"""One resolver for every front end: options, environment variables and the config file become one ``RunConfig``.

Precedence, the same for the CLI, the pytest plugin, the ``webhook`` fixture and ``simulate``: an explicit option
(command line, pytest option or ini value) wins, then an environment variable, then the config file, then the default.
Every value is checked once, here, where it enters: a bad one is a one-line ``HarnessError`` naming where it came from.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from harness.config import ConfigFile, load_config
from harness.credentials import CREDENTIAL_FIELDS, Credentials, redact_url
from harness.errors import ConfigError, HarnessError, UsageError
from harness.network import NETWORK_KEYS, NetworkOptions, resolve_network

if TYPE_CHECKING:
    from harness.catalog import Catalog
    from harness.probes import Probe
    from harness.state_probes import StateProbe
    from harness.transport import Transport

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "RUN_KEYS",
    "RunConfig",
    "resolve_run_config",
    "resolve_seconds",
    "run_budget",
    "validate_url",
]

DEFAULT_MAX_EXAMPLES = 20
DEFAULT_SETTLE_TIMEOUT = 5.0  # harness.settle.DEFAULT_TIMEOUT, restated so this layer imports no probe machinery
MAX_SECONDS = 7 * 86400.0
SEVERITIES = ("error", "warn", "off")
# The run settings every front end shares (besides the credential fields); the config file uses the same names.
RUN_KEYS: tuple[str, ...] = (
    "provider",
    "url",
    "schemas",
    "probe_url",
    "probe_db",
    "probe_sql",
    "state_url",
    "state_db",
    "state_sql",
    "state_fields",
    "timeout",
    "seed",
    "max_examples",
    "callback_host",
    "report",
    "checks",
    "exclude_checks",
    "max_time",
    "settle_timeout",
    "strict",
    "fail_fast",
)


@dataclass
class RunConfig:
    """Everything a contract run needs, typed and validated; every front end builds one with ``resolve_run_config``."""

    provider: str
    url: str
    credentials: Credentials = field(default_factory=Credentials)
    catalog: Catalog | None = None
    schemas_dir: str | None = None
    probe: Probe | None = None
    seed: int | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    timeout: float | None = None
    checks: Sequence[str] = ()
    exclude_checks: Sequence[str] = ()
    callback_host: str = "127.0.0.1"
    transport: Transport | None = None
    overrides: Mapping[str, Any] | None = None
    preflight: bool = True
    report: str | None = None
    severities: Mapping[str, str] = field(default_factory=dict)
    config_path: str | None = None
    max_time: float | None = None  # the run budget; None: derived from the provider's timeout
    strict: bool = False  # every warn-severity check counts as an error
    fail_fast: bool = False  # stop at the first failed or blocked check
    settle_timeout: float = DEFAULT_SETTLE_TIMEOUT  # how long a probe read may wait for the count to settle
    network: NetworkOptions = field(default_factory=NetworkOptions)
    state_probe: StateProbe | None = None  # the receiver's view of one object: enables the converges check
    state_fields: Sequence[str] = ()  # FIELD=/pointer: where a lifecycle field sits in that view

    def resolved_catalog(self) -> Catalog:
        """The catalog to use (loaded once)."""
        if self.catalog is None:
            from harness.catalog import load_catalog
            from harness.errors import SchemaLoadError

            try:
                self.catalog = load_catalog(self.schemas_dir, overrides=self.overrides)
            except SchemaLoadError as exc:
                if not self.overrides:
                    raise
                load_catalog(self.schemas_dir)  # a catalog broken without the overrides reports itself
                detail = str(exc).split(": ", 1)[-1]
                sections = ", ".join(f"[providers.{name}]" for name in self.overrides)
                source = self.config_path or "the config file"
                raise ConfigError(f"{source}: {sections} does not fit the profile: {detail}") from None
        return self.catalog

    def resolved_seed(self) -> int:
        """The seed, drawn once if none was given."""
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(2**32)
        return self.seed


def run_budget(config: RunConfig, provider_timeout: float) -> float:
    """The run's budget: as given, or 10 waits of the transport's timeout (at least 5 minutes)."""
    if config.max_time is not None:
        return config.max_time
    timeout = config.timeout if config.timeout is not None else provider_timeout
    return max(300.0, 10 * max(timeout * 2, timeout + 5.0))


def resolve_seconds(value: Any, what: str) -> float:
    """A positive, finite number of seconds from a number or a duration string ("10s", "1m30s")."""
    from harness.core.durations import parse_duration

    if isinstance(value, bool):
        raise UsageError(f"Invalid {what} {value!r}: give seconds or a duration such as 10s.")
    try:
        seconds = parse_duration(value if isinstance(value, int | float) else str(value), what=what)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"Invalid {what} {value!r}: give seconds or a duration such as 10s.") from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_SECONDS:
        raise UsageError(f"Invalid {what} {value!r}: must be a positive duration of at most 7 days.")
    return seconds


def _int(value: Any, what: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise UsageError(f"Invalid {what} {value!r}: must be a whole number.")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise UsageError(f"Invalid {what} {value!r}: must be a whole number.") from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise UsageError(f"Invalid {what} {value!r}: must be {bound}.")
    return number


def validate_url(url: str, what: str = "receiver URL") -> str:
    """An http(s) URL with a host and a valid port, or a one-line usage error (the password never echoed)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"Invalid {what} {redact_url(url)!r}: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"The {what} must start with http:// or https:// and name a host, got {redact_url(url)!r}.")
    if port == 0:
        raise UsageError(f"Invalid {what} {redact_url(url)!r}: port 0 cannot be connected to.")
    return url


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without user-info, and the user-info as Basic credentials (the checks add or drop it per delivery)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host)), (unquote(parts.username), unquote(parts.password or ""))


def _as_list(value: Any, what: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.replace(",", " ").split() if v.strip())
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(v for v in value if v)
    raise UsageError(f"Invalid {what} {value!r}: give check ids.")


def _checks_from_file(config: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The config file's ``checks``: a list selects checks; a table sets per-check severities."""
    value = config.get("checks")
    if isinstance(value, Mapping):
        return (), {name: str(entry.get("severity", "error")) for name, entry in value.items()}
    return _as_list(value, "checks"), {}


def _pick(name: str, options: Mapping[str, Any], config: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    value = options.get(name)
    if value in (None, "", [], ()):
        value = env.get(f"WEBHOOK_HARNESS_{name.upper()}") if name in _ENV_RUN_KEYS else None
    if value in (None, "", [], ()):
        value = config.get(name)
    return None if value in ("", [], ()) else value


_ENV_RUN_KEYS = frozenset({"url", "provider", "probe_url", "probe_db", "probe_sql", "seed", "timeout"})


def resolve_run_config(
    options: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    require_target: bool = True,
) -> RunConfig:
    """The validated run configuration for these explicit ``options`` (None: not given), env and config file.

    ``options`` uses the config file's key names plus the credential fields. With ``require_target`` a provider and a
    receiver URL must be known; the ``webhook`` fixture resolves without them.
    """
    env = os.environ if env is None else env
    file = config if config is not None else load_config(config_path)
    source = str(file.path) if isinstance(file, ConfigFile) and file.path else None

    def where(key: str) -> str:
        """The setting's name as the user wrote it: the option (``--max-time``), or the key and its file."""
        if options.get(key) in (None, "", [], ()):
            return f"{key} (from {source})" if source else key
        return "--" + key.replace("_", "-")

    provider = _pick("provider", options, file, env)
    url = _pick("url", options, file, env)
    if require_target and not provider:
        raise UsageError("No provider: name one (--webhook-provider, or provider in the config file).")
    if require_target and not url:
        raise UsageError("No receiver URL: give one (http://... or https://...), or url in the config file.")
    if url:
        validate_url(str(url))
    timeout = _pick("timeout", options, file, env)
    max_time = _pick("max_time", options, file, env)
    settle = _pick("settle_timeout", options, file, env)
    seed = _pick("seed", options, file, env)
    max_examples = _pick("max_examples", options, file, env)
    file_checks, severities = _checks_from_file(file)
    checks = _as_list(options.get("checks"), "checks") or file_checks
    exclude = _as_list(options.get("exclude_checks"), "exclude_checks") or _as_list(
        file.get("exclude_checks"), "exclude_checks"
    )
    for name, level in {**severities, **dict(options.get("severities") or {})}.items():
        if level not in SEVERITIES:
            raise UsageError(f"Invalid severity {level!r} for {name}: use error, warn or off.")
    severities.update(options.get("severities") or {})
    credentials = Credentials.resolve({k: options.get(k) for k in CREDENTIAL_FIELDS}, file, env)
    if url:
        url, userinfo = _split_userinfo(str(url))
        if userinfo and credentials.basic is None:
            credentials = dataclasses.replace(credentials, basic=userinfo)  # as OCI sends it: in the URL
    network = resolve_network({k: options.get(k) for k in NETWORK_KEYS}, file)
    probe = _probe(options, file, env, network)
    state_probe = _state_probe(options, file, env, network)
    return RunConfig(
        provider=str(provider or ""),
        url=str(url or ""),
        credentials=credentials,
        catalog=options.get("catalog"),
        schemas_dir=_pick("schemas", options, file, env),
        probe=probe,
        seed=None if seed is None else _int(seed, where("seed"), minimum=0, maximum=2**32 - 1),
        max_examples=DEFAULT_MAX_EXAMPLES
        if max_examples is None
        else _int(max_examples, where("max_examples"), minimum=1, maximum=100_000),
        timeout=None if timeout is None else resolve_seconds(timeout, where("timeout")),
        checks=checks,
        exclude_checks=exclude,
        callback_host=str(_pick("callback_host", options, file, env) or "127.0.0.1"),
        overrides=file.get("providers") or None,
        report=_pick("report", options, file, env),
        severities=severities,
        config_path=source,
        max_time=None if max_time is None else resolve_seconds(max_time, where("max_time")),
        strict=bool(_pick("strict", options, file, env)),
        fail_fast=bool(_pick("fail_fast", options, file, env)),
        settle_timeout=DEFAULT_SETTLE_TIMEOUT if settle is None else resolve_seconds(settle, where("settle_timeout")),
        network=network,
        state_probe=state_probe,
        state_fields=tuple(options.get("state_fields") or file.get("state_fields") or ()),
    )


def _state_probe(
    options: Mapping[str, Any], file: Mapping[str, Any], env: Mapping[str, str], network: NetworkOptions
) -> StateProbe | None:
    from harness.state_probes import make_state_probe

    values = [_pick(name, options, file, env) for name in ("state_url", "state_db", "state_sql")]
    if values[0]:
        validate_url(str(values[0]).replace("{object_id}", "x"), "state URL")
    try:
        return make_state_probe(*values, network=network)
    except HarnessError:
        raise
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"Cannot use the state probe: {exc}.") from None


def _probe(
    options: Mapping[str, Any], file: Mapping[str, Any], env: Mapping[str, str], network: NetworkOptions
) -> Probe | None:
    from harness.probes import make_probe

    values = [_pick(name, options, file, env) for name in ("probe_url", "probe_db", "probe_sql")]
    if values[0]:
        validate_url(str(values[0]).replace("{event_id}", "x"), "probe URL")
    try:
        return make_probe(*values, network=network)
    except HarnessError:
        raise
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"Cannot use the probe: {exc}.") from None
