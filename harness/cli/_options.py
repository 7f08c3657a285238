"""Options shared by several commands, and turning them into engine inputs."""

from __future__ import annotations

import argparse
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.core.settings_table import SETTINGS, by_name, for_command, resolve_values
from harness.credentials import CREDENTIAL_FIELDS, Credentials
from harness.errors import UsageError
from harness.net.options import NETWORK_KEYS, NetworkOptions, resolve_network
from harness.settings.file import load_config

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.settings.resolve import RunConfig

__all__ = [
    "CommandInputs",
    "MAX_EVENTS",
    "MAX_SPAN",
    "MAX_TIMEOUT",
    "add_auth_options",
    "add_catalog_options",
    "add_network_options",
    "add_probe_options",
    "add_settings",
    "add_shared_options",
    "catalog_from_args",
    "config_from_args",
    "credentials_from_args",
    "network_from_args",
    "network_options_from_args",
    "options_from_args",
    "run_config_from_args",
    "duration",
    "duration_list",
    "fraction",
    "http_url",
    "non_negative_int",
    "number",
    "port_number",
    "positive_int",
    "positive_number",
]

MAX_TIMEOUT = 3600.0  # a receiver timeout: no provider waits an hour for a reply
MAX_SPAN = 366 * 86400.0  # any span of virtual or real time: a year (as harness.simulate.outages.MAX_SPAN)
MAX_EVENTS = 1_000_000_000  # simulated events (harness.simulate.engine.MAX_EVENTS): a dry run's memory stays flat
MAX_COUNT = 10**9  # any other count (requests, examples, concurrency)


# argparse types: every numeric option is validated here, once, where it enters; each error is one line, exit 2.


def _integer(text: str, low: int, high: int, sep: str = ",") -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high:{sep}}, got {value:{sep}}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (and below a billion)."""
    return _integer(text, 0, MAX_COUNT)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (and below a billion)."""
    return _integer(text, 1, MAX_COUNT)


def bounded_int(high: int, low: int = 0) -> Callable[[str], int]:
    """argparse type: an integer in ``low..high``."""

    def parse(text: str) -> int:
        return _integer(text, low, high)

    return parse


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 (any free one) to 65535."""
    return _integer(text, 0, 65535, sep="")


def number(text: str) -> float:
    """argparse type: any finite number (no nan or inf); the command judges its range."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_number(high: float) -> Callable[[str], float]:
    """argparse type: a finite number > 0 and <= ``high`` (no nan, inf or 1e300)."""

    def parse(text: str) -> float:
        value = number(text)
        if not math.isfinite(value) or not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"must be positive and at most {high:g}, got {text}")
        return value

    return parse


def fraction(text: str) -> float:
    """argparse type: a number from 0 up to (not including) 1."""
    value = number(text)
    if not 0 <= value < 1:  # also false for nan
        raise argparse.ArgumentTypeError(f"must be from 0 up to 1 (not 1), got {text}")
    return value


def seconds(text: str, *, what: str, high: float, positive: bool = False) -> float:
    """A duration (``250ms``, ``90s``, ``2h30m`` or bare seconds) checked to be finite and within ``0..high``.

    The one duration parser (``harness.core.durations``) reads it, as it reads every setting's duration.
    """
    from harness.core.durations import parse_duration

    if positive and text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must be positive")
    try:
        value = parse_duration(text, what=what)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None
    if positive and value == 0:
        raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must be positive")
    if value > high:
        raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: at most {high:g} seconds")
    return value


def duration(what: str, high: float = MAX_SPAN, *, positive: bool = False) -> Callable[[str], float]:
    """argparse type: a duration in seconds, finite and at most ``high``."""

    def parse(text: str) -> float:
        return seconds(text, what=what, high=high, positive=positive)

    return parse


def duration_list(what: str, high: float = MAX_SPAN) -> Callable[[str], list[float]]:
    """argparse type: comma-separated durations, such as ``1m,5m,30m``."""

    def parse(text: str) -> list[float]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: give durations such as 1m,5m,30m")
        return [seconds(item, what=f"{what} entry", high=high) for item in items]

    return parse


def http_url(text: str) -> str:
    """argparse type: an ``http(s)://`` URL with a host and, if given, a port from 1 to 65535."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r}: write http:// or https://host[:port]/path")
    if port == 0:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r}: port 0 cannot be connected to")
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(parts.hostname.split("%")[0])
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid URL {text!r}: {parts.hostname!r} is not an IPv6 address"
            ) from None
    return text


_GROUPS = {
    "target": None,
    "auth": "authentication (also from WEBHOOK_HARNESS_* environment variables or the config file)",
    "probe": "side-effect probe",
    "state": "state probe (the receiver's view of one object; docs/sequences.md)",
    "network": "network (HTTPS, proxies, gateways; for deliveries, token requests and HTTP probes alike)",
    "run": "run",
    "verdicts": "verdicts (see docs/severities.md)",
    "catalog": "catalog and config file",
}


def _command_of(parser: argparse.ArgumentParser) -> str:
    return parser.prog.split()[-1]


def add_settings(
    parser: argparse.ArgumentParser, command: str | None = None, *, groups: tuple[str, ...] | None = None
) -> None:
    """Add the options the settings table gives ``command`` (default: the parser's), grouped as in --help.

    Values stay text here (``None``: not given); the resolver parses them with the one parser of their type, so an
    option, its environment variable and its config key are judged alike.
    """
    command = command or _command_of(parser)
    chosen = [s for s in for_command(command) if groups is None or s.group in groups]
    for s in chosen:
        if command in s.positional:
            parser.add_argument(s.name, metavar=s.name.upper(), nargs="?", help=s.usage_help())
    sections: dict[str, Any] = {}
    for s in chosen:
        if command not in s.commands:
            continue
        title = _GROUPS.get(s.group)
        if s.group not in sections:
            sections[s.group] = parser.add_argument_group(title) if title else parser
        target = sections[s.group]
        if s.type.flag:
            target.add_argument(s.option, dest=s.name, action="store_true", default=None, help=s.usage_help())
        elif s.type.repeat:
            target.add_argument(
                s.option, dest=s.name, action="append", default=None, metavar=s.type.metavar, help=s.usage_help()
            )
        else:
            target.add_argument(s.option, dest=s.name, default=None, metavar=s.type.metavar, help=s.usage_help())


def options_from_args(args: argparse.Namespace, command: str | None = None) -> dict[str, Any]:
    """The table's settings as given on the command line (``None``: not given), keyed by setting name."""
    names = [s.name for s in (for_command(command) if command else SETTINGS)]
    options = {name: getattr(args, name, None) for name in names}
    provider, url = options.get("provider"), options.get("url")
    if provider and "://" in str(provider) and not url and "provider" in names and "url" in names:
        options["provider"], options["url"] = None, provider  # `check URL`: the provider comes from elsewhere
    return options


def add_catalog_options(parser: argparse.ArgumentParser) -> None:
    """--schemas and --config."""
    add_settings(parser, groups=("catalog",))


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    """The credential options; which ones are given chooses the auth mode."""
    add_settings(parser, groups=("auth",))


def add_probe_options(parser: argparse.ArgumentParser) -> None:
    """--probe-url, --probe-db and --probe-sql."""
    add_settings(parser, groups=("probe",))


def add_shared_options(parser: argparse.ArgumentParser, *, probe: bool = False, network: bool = False) -> None:
    """The shared option groups the settings table gives the parser's command: auth, probe, network, catalog."""
    add_settings(parser, groups=("auth", "probe", "network", "catalog"))


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The config file named by --config (or WEBHOOK_HARNESS_CONFIG), or the one discovered in the working directory."""
    import os

    return load_config(getattr(args, "config", None) or os.environ.get(by_name("config").env_var or "") or None)


def catalog_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Catalog:
    """The catalog, with the --schemas folder (option > environment > config file) and the file's profile overrides."""
    import os

    from harness.catalog import load_catalog

    config = config_from_args(args) if config is None else config
    schemas = resolve_values([by_name("schemas")], vars(args), env=os.environ, config=config)["schemas"]
    return load_catalog(schemas, overrides=config.get("providers"))


def credentials_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Credentials:
    """Credentials from options, then environment variables, then the config file."""
    config = config_from_args(args) if config is None else config
    options = {name: getattr(args, name, None) for name in CREDENTIAL_FIELDS}
    return Credentials.resolve(options, config)


def run_config_from_args(
    args: argparse.Namespace, command: str | None = None, *, require_target: bool = True, **extra: Any
) -> RunConfig:
    """The command's ``RunConfig``: its options, the environment and the config file through the one resolver."""
    from harness.settings.resolve import resolve_run_config

    options = options_from_args(args, command or args.command)
    options.update(extra)
    return resolve_run_config(options, require_target=require_target)


@dataclass
class CommandInputs:
    """What a command reads besides its own options: one config file, and the catalog and credentials it yields."""

    args: argparse.Namespace
    config: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.config = config_from_args(self.args)

    @cached_property
    def catalog(self) -> Catalog:
        """The catalog (``--schemas`` or the config file's, with its profile overrides), loaded on first use."""
        return catalog_from_args(self.args, self.config)

    @cached_property
    def credentials(self) -> Credentials:
        """The credentials (options, then environment, then config file), resolved on first use."""
        return credentials_from_args(self.args, self.config)

    def provider(self, name: str) -> Provider:
        """A provider of the catalog, by id (an unknown one is the user's error)."""
        return self.catalog.get(name)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """TLS trust, client certificates, the proxy policy and gateway headers (the same keys in the config file)."""
    add_settings(parser, groups=("network",))


def network_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The network options as given on the command line (None: not given), keyed like the config file."""
    return {key: getattr(args, key, None) for key in NETWORK_KEYS}


def network_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> NetworkOptions:
    """Network options from the command line, then the config file."""
    config = config_from_args(args) if config is None else config
    return resolve_network(network_options_from_args(args), config)
