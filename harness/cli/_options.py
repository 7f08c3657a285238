"""Options shared by several commands, and turning them into engine inputs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from harness.config import load_config
from harness.credentials import CREDENTIAL_FIELDS, ENV_VARS, Credentials
from harness.network import NETWORK_KEYS, NetworkOptions, resolve_network

if TYPE_CHECKING:
    from harness.catalog import Catalog

__all__ = [
    "add_auth_options",
    "add_catalog_options",
    "add_network_options",
    "add_probe_options",
    "catalog_from_args",
    "config_from_args",
    "credentials_from_args",
    "network_from_args",
    "network_options_from_args",
    "non_negative_int",
]


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


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
