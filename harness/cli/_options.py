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

from harness.config import load_config
from harness.credentials import CREDENTIAL_FIELDS, ENV_VARS, Credentials
from harness.errors import UsageError
from harness.network import NETWORK_KEYS, NetworkOptions, resolve_network

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider

__all__ = [
    "CommandInputs",
    "MAX_EVENTS",
    "MAX_SPAN",
    "MAX_TIMEOUT",
    "add_auth_options",
    "add_catalog_options",
    "add_network_options",
    "add_probe_options",
    "add_shared_options",
    "catalog_from_args",
    "config_from_args",
    "credentials_from_args",
    "network_from_args",
    "network_options_from_args",
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
MAX_EVENTS = 1_000_000  # simulated events (or scenario entities): about 15 s and 100 MB in a dry run
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
    """A duration (``250ms``, ``90s``, ``2h30m`` or bare seconds) checked to be finite and within ``0..high``."""
    from harness.simulate.outages import parse_span  # here: the simulate package is not needed to start the CLI

    if positive and text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must be positive")
    try:
        value = parse_span(text, what=what)
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


def add_catalog_options(parser: argparse.ArgumentParser) -> None:
    """--schemas and --config."""
    parser.add_argument(
        "--schemas", metavar="DIR", help="a folder of provider folders that add to or replace the built-in catalog"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: ./webhook-harness.toml or [tool.webhook-harness] in ./pyproject.toml)",
    )


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    """The credential options; which ones are given chooses the auth mode."""
    group = parser.add_argument_group("authentication (secrets also from environment variables or the config file)")
    group.add_argument(
        "--secret",
        metavar="TEXT",
        help=f"shared secret (env {ENV_VARS['secret']}); teams: the base64 security token; stripe/standard: whsec_...",
    )
    group.add_argument(
        "--signing-key",
        metavar="PATH",
        help=f"ECDSA P-256 private key PEM for the SendGrid signed webhook (env {ENV_VARS['signing_key']})",
    )
    group.add_argument("--token-url", metavar="URL", help="OAuth2 client-credentials token endpoint (sendgrid)")
    group.add_argument("--client-id", metavar="ID", help="OAuth2 client id")
    group.add_argument(
        "--client-secret", metavar="TEXT", help=f"OAuth2 client secret (env {ENV_VARS['client_secret']})"
    )
    group.add_argument(
        "--oauth-credentials-in",
        choices=("basic", "form"),
        help="send the OAuth client credentials as HTTP Basic (default) or as form fields",
    )
    group.add_argument("--basic", metavar="USER:PASS", help="HTTP Basic credentials (oci)")
    group.add_argument("--bearer", metavar="TOKEN", help="a static bearer token")


def add_probe_options(parser: argparse.ArgumentParser) -> None:
    """--probe-url, --probe-db and --probe-sql."""
    group = parser.add_argument_group("side-effect probe")
    group.add_argument(
        "--probe-url", metavar="TEMPLATE", help='GET, {event_id} substituted; answers a JSON number or {"count": n}'
    )
    group.add_argument("--probe-db", metavar="URL", help="SQLAlchemy database URL for a SQL probe")
    group.add_argument("--probe-sql", metavar="QUERY", help="SQL returning the count; binds :event_id")


def add_shared_options(parser: argparse.ArgumentParser, *, probe: bool = False, network: bool = False) -> None:
    """The shared option groups a command takes, always in this order: auth, [probe], [network], catalog."""
    add_auth_options(parser)
    if probe:
        add_probe_options(parser)
    if network:
        add_network_options(parser)
    add_catalog_options(parser)


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The config file named by --config, or the one discovered in the working directory."""
    return load_config(getattr(args, "config", None))


def catalog_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Catalog:
    """The catalog, with the user's --schemas folder and config-file profile overrides."""
    from harness.catalog import load_catalog

    config = config_from_args(args) if config is None else config
    schemas = getattr(args, "schemas", None) or config.get("schemas")
    return load_catalog(schemas, overrides=config.get("providers"))


def credentials_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Credentials:
    """Credentials from options, then environment variables, then the config file."""
    config = config_from_args(args) if config is None else config
    options = {name: getattr(args, name, None) for name in CREDENTIAL_FIELDS}
    return Credentials.resolve(options, config)


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
    group = parser.add_argument_group(
        "network (HTTPS, proxies, gateways; for deliveries, token requests and HTTP probes alike)"
    )
    group.add_argument("--ca-bundle", metavar="PATH", help="trust the CA certificates in this PEM file")
    group.add_argument("--client-cert", metavar="PATH", help="client certificate PEM for mutual TLS")
    group.add_argument("--client-key", metavar="PATH", help="its private key PEM (if not in --client-cert)")
    group.add_argument(
        "--insecure", action="store_true", default=None, help="do not verify TLS certificates (test setups only)"
    )
    group.add_argument("--proxy", metavar="URL", help="send all traffic through this HTTP(S) proxy")
    group.add_argument(
        "--trust-env",
        action="store_true",
        default=None,
        help="honour HTTP(S)_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE from the environment (off by default)",
    )
    group.add_argument(
        "--header",
        action="append",
        default=None,
        dest="headers",
        metavar="'NAME: VALUE'",
        help="an extra, unsigned header on every request, for API gateways and WAFs (repeat); "
        "hidden in output when its name looks secret",
    )


def network_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The network options as given on the command line (None: not given), keyed like the config file."""
    return {key: getattr(args, key, None) for key in NETWORK_KEYS}


def network_from_args(args: argparse.Namespace, config: dict[str, Any] | None = None) -> NetworkOptions:
    """Network options from the command line, then the config file."""
    config = config_from_args(args) if config is None else config
    return resolve_network(network_options_from_args(args), config)
