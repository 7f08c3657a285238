"""One resolver for every front end: options, environment variables and the config file become one ``RunConfig``.

Precedence, the same for the CLI, the pytest plugin, the ``webhook`` fixture and ``simulate``: an explicit option
(command line, pytest option or ini value) wins, then an environment variable, then the config file, then the default.
Every value is checked once, here, where it enters: a bad one is a one-line ``HarnessError`` naming where it came from.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from harness.core.settings_table import DURATION, SETTINGS, Setting, by_name, check_url, resolve_values
from harness.credentials import CREDENTIAL_FIELDS, Credentials
from harness.errors import ConfigError, HarnessError, UsageError
from harness.net.options import NETWORK_KEYS, NetworkOptions
from harness.settings.file import ConfigFile, load_config

if TYPE_CHECKING:
    from harness.catalog import Catalog
    from harness.probes.counts import Probe
    from harness.probes.state import StateProbe
    from harness.transport import Transport

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "RunConfig",
    "resolve_run_config",
    "resolve_seconds",
    "run_budget",
    "settings_env",
    "validate_url",
]

DEFAULT_MAX_EXAMPLES = int(by_name("max_examples").default)
DEFAULT_SETTLE_TIMEOUT = float(by_name("settle_timeout").default)
SEVERITIES = ("error", "warn", "off")
# The settings a contract run resolves: every entry of the table but the config file's own path.
_RUN_SETTINGS = tuple(s for s in SETTINGS if s.name != "config")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, typed, validated, immutable; every front end builds one with ``resolve_run_config``."""

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
    given: Mapping[str, Any] = field(default_factory=dict)  # the settings not at their defaults
    sources: Mapping[str, str] = field(default_factory=dict)  # where each came from: "option", "env" or "config"
    state_probe: StateProbe | None = None  # the receiver's view of one object: turns the converges check on
    state_fields: Sequence[str] = ()  # FIELD=/pointer: where a lifecycle field sits in that view
    events: Sequence[str] = ()  # the event types the endpoint subscribes to (--event); () for every type
    content_type: str | None = None  # a delivery encoding the profile declares (GitHub's "form"); None: the default

    def __post_init__(self) -> None:
        if self.seed is None:  # drawn once, as the config is made: every line that prints it agrees
            object.__setattr__(self, "seed", random.SystemRandom().randrange(2**32))

    def resolved_catalog(self) -> Catalog:
        """The given catalog, or the one ``schemas_dir`` and the file's overrides make (loaded once)."""
        return self.catalog if self.catalog is not None else self._loaded_catalog

    @cached_property
    def _loaded_catalog(self) -> Catalog:
        """A value derived from the settings, computed on first use (the settings themselves never change)."""
        from harness.catalog import load_catalog
        from harness.errors import SchemaLoadError

        try:
            return load_catalog(self.schemas_dir, overrides=self.overrides)
        except SchemaLoadError as exc:
            if not self.overrides:
                raise
            load_catalog(self.schemas_dir)  # a catalog broken without the overrides reports itself
            detail = str(exc).split(": ", 1)[-1]
            sections = ", ".join(f"[providers.{name}]" for name in self.overrides)
            source = self.config_path or "the config file"
            raise ConfigError(f"{source}: {sections} does not fit the profile: {detail}") from None

    def resolved_seed(self) -> int:
        """The seed (drawn when the config was made, if none was given)."""
        assert self.seed is not None  # set by __post_init__
        return self.seed

    def non_default(self) -> dict[str, Any]:
        """Settings given as options or environment variables, at other than their defaults, secrets left out: what
        a "Replay with:" line carries besides the config file."""
        return {
            name: value
            for name, value in self.given.items()
            if not by_name(name).secret and self.sources.get(name) != "config"  # naming the file reproduces those
        }


def run_budget(config: RunConfig, provider_timeout: float) -> float:
    """The run's budget: as given, or 10 waits of the transport's timeout (at least 5 minutes)."""
    if config.max_time is not None:
        return config.max_time
    timeout = config.timeout if config.timeout is not None else provider_timeout
    return max(300.0, 10 * max(timeout * 2, timeout + 5.0))


def resolve_seconds(value: Any, what: str) -> float:
    """A positive, finite number of seconds (at most 7 days) from a number or a duration ("10s", "1m30s")."""
    seconds: float = DURATION.parse(value, what)
    return seconds


def validate_url(url: str, what: str = "receiver URL") -> str:
    """An http(s) URL with a host and a valid port, or a one-line usage error (the password never echoed)."""
    return check_url(url, what)


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without user-info, and the user-info as Basic credentials (the checks add or drop it per delivery)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host)), (unquote(parts.username), unquote(parts.password or ""))


def _severities(values: Mapping[str, Any], options: Mapping[str, Any], file: Mapping[str, Any]) -> dict[str, str]:
    """Per-check severities: the file's ``[checks.<id>]`` table, then ``--warn``/``--error`` (never both for one id)."""
    table = file.get("checks")
    severities = (
        {name: str(entry.get("severity", "error")) for name, entry in table.items()}
        if isinstance(table, Mapping)
        else {}
    )
    warn, error = values.get("warn") or (), values.get("error") or ()
    both = sorted(set(warn) & set(error))
    if both:
        raise UsageError(f"Check {both[0]!r} is given both --warn and --error; choose one.")
    severities.update({**dict.fromkeys(warn, "warn"), **dict.fromkeys(error, "error")})
    severities.update(options.get("severities") or {})
    for name, level in severities.items():
        if level not in SEVERITIES:
            raise UsageError(f"Invalid severity {level!r} for {name}: use error, warn or off.")
    return severities


def resolve_run_config(
    options: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    require_target: bool = True,
    label: Callable[[Setting], str] | None = None,
) -> RunConfig:
    """The validated run configuration for these explicit ``options`` (None: not given), env and config file.

    ``options`` is keyed by the settings table's names (``harness.core.settings_table``); ``catalog``, ``transport``,
    ``severities`` and ``preflight`` may be given as objects too. With ``require_target`` a provider and a receiver URL
    must be known; the ``webhook`` fixture resolves without them. ``label`` names an option in errors (the pytest
    plugin's are ``--webhook-*``).
    """
    env = os.environ if env is None else env
    if config is None:
        config_path = config_path or options.get("config") or env.get(by_name("config").env_var or "") or None
    file = config if config is not None else load_config(config_path)
    source = str(file.path) if isinstance(file, ConfigFile) and file.path else None
    sources: dict[str, str] = {}
    values = resolve_values(
        _RUN_SETTINGS, options, env=env, config=file, source=source, label=label or (lambda s: s.what), sources=sources
    )
    if require_target and not values["provider"]:
        raise UsageError(
            "No provider: name one (the PROVIDER argument, --webhook-provider, "
            "WEBHOOK_HARNESS_PROVIDER, or provider in the config file)."
        )
    if require_target and not values["url"]:
        raise UsageError(
            "No receiver URL: give one (http://... or https://...), WEBHOOK_HARNESS_URL, or url in the config file."
        )
    credentials = Credentials(**{name: values[name] for name in CREDENTIAL_FIELDS})
    url = values["url"] or ""
    if url:
        url, userinfo = _split_userinfo(url)
        if userinfo and credentials.basic is None:
            credentials = dataclasses.replace(credentials, basic=userinfo)  # as OCI sends it: in the URL
    network = NetworkOptions(**{name: values[name] for name in NETWORK_KEYS})
    defaults = {s.name: s.default for s in _RUN_SETTINGS}
    given = {name: value for name, value in values.items() if value not in (None, (), defaults[name])}
    return RunConfig(
        provider=values["provider"] or "",
        url=url,
        credentials=credentials,
        catalog=options.get("catalog"),
        schemas_dir=values["schemas"],
        probe=_probe(values, network),
        seed=values["seed"],
        max_examples=values["max_examples"],
        timeout=values["timeout"],
        checks=values["checks"] or (),
        exclude_checks=values["exclude_checks"] or (),
        callback_host=values["callback_host"],
        transport=options.get("transport"),
        overrides=file.get("providers") or None,
        preflight=options.get("preflight", True) is not False,
        report=values["report"],
        severities=_severities(values, options, file),
        config_path=source,
        max_time=values["max_time"],
        strict=bool(values["strict"]),
        fail_fast=bool(values["fail_fast"]),
        settle_timeout=values["settle_timeout"],
        network=network,
        given=given,
        sources=sources,
        state_probe=_state_probe(values, network),
        state_fields=values["state_fields"] or (),
        events=values["events"] or (),
        content_type=values["content_type"],
    )


def settings_env(config: RunConfig) -> dict[str, str]:
    """The credential and network settings as environment variables, for a front end in another process (Locust)."""
    from harness.core.settings_table import env_text

    values: dict[str, Any] = {name: getattr(config.credentials, name) for name in CREDENTIAL_FIELDS}
    values.update({name: getattr(config.network, name) for name in NETWORK_KEYS})
    if config.schemas_dir:
        values["schemas"] = config.schemas_dir
    if config.config_path:
        values["config"] = config.config_path
    return {
        env: env_text(value)
        for name, value in values.items()
        if value not in (None, False, ()) and (env := by_name(name).env_var)
    }


_T = TypeVar("_T")


def _probe(values: Mapping[str, Any], network: NetworkOptions) -> Probe | None:
    from harness.probes.counts import make_probe

    return _made("probe", make_probe, values, network)


def _state_probe(values: Mapping[str, Any], network: NetworkOptions) -> StateProbe | None:
    from harness.probes.state import make_state_probe

    return _made("state probe", make_state_probe, values, network)


def _made(what: str, make: Callable[..., _T], values: Mapping[str, Any], network: NetworkOptions) -> _T:
    """``make`` over the ``{prefix}_url``, ``_db`` and ``_sql`` settings; what it cannot use is one line (exit 2)."""
    prefix = what.split()[0]
    try:
        return make(values[f"{prefix}_url"], values[f"{prefix}_db"], values[f"{prefix}_sql"], network=network)
    except HarnessError:
        raise
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"Cannot use the {what}: {exc}.") from None
