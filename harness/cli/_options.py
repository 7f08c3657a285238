"""Options: the shared ones, each command's own (both from the settings table), and turning them into engine inputs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from harness.core.settings_table import SETTINGS, by_name, command_settings, for_command, resolve_values
from harness.credentials import CREDENTIAL_FIELDS, Credentials
from harness.errors import UsageError
from harness.net.options import NETWORK_KEYS, NetworkOptions, resolve_network
from harness.settings.file import load_config

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.settings.resolve import RunConfig

__all__ = [
    "CommandInputs",
    "add_auth_options",
    "add_command_options",
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
    "resolve_command_options",
    "run_config_from_args",
]

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


def add_command_options(parser: argparse.ArgumentParser, scope: str | None = None) -> None:
    """Add the command's own options from the settings table (``scope``: ``"pact export"``; default: the command).

    Values stay text here (``None``: not given); ``resolve_command_options`` reads them, their environment variables
    and the config file's ``[command]`` table through the one resolver before the command runs.
    """
    scope = scope or _command_of(parser)
    sections: dict[str, Any] = {}
    exclusive: dict[str, Any] = {}
    for s in command_settings(scope):
        title = _GROUPS.get(s.group, s.group)
        if s.group not in sections:
            sections[s.group] = parser.add_argument_group(title) if title else parser
        target = sections[s.group]
        if s.exclusive:
            if s.exclusive not in exclusive:
                exclusive[s.exclusive] = parser.add_mutually_exclusive_group()
            target = exclusive[s.exclusive]
        names = [s.short, s.option] if s.short else [s.option]
        help_text = s.usage_help().replace("%", "%%")
        if s.type.flag:
            target.add_argument(*names, dest=s.name, action="store_true", default=None, help=help_text)
        else:
            action = "append" if s.type.repeat else "store"
            metavar = s.metavar or s.type.metavar
            target.add_argument(*names, dest=s.name, action=action, default=None, metavar=metavar, help=help_text)
    parser.set_defaults(settings_scope=scope)


def resolve_command_options(args: argparse.Namespace) -> None:
    """Replace the command's own options in ``args`` by their typed values: option > environment > the config file's
    ``[command]`` table > default, each judged by its type's one parser (a bad value: one line, exit 2)."""
    import os

    scope: str = getattr(args, "settings_scope", None) or ""
    settings = command_settings(scope)
    if not settings:
        return
    section: Any = {}
    source = None
    if any(s.config for s in settings):
        file = config_from_args(args)
        section = file.get(scope) or {}
        path = getattr(file, "path", None)
        source = f"{path} [{scope}]" if path else f"[{scope}]"
    given = {s.name: getattr(args, s.name, None) for s in settings}
    values = resolve_values(settings, given, env=os.environ, config=section, source=source)
    chosen: dict[str, list[str]] = {}
    for s in settings:
        if s.exclusive and values[s.name]:
            chosen.setdefault(s.exclusive, []).append(s.option)
    for options in chosen.values():
        if len(options) > 1:
            raise UsageError(f"{' and '.join(options)} do not go together; choose one.")
    for s in settings:
        if s.required and values[s.name] in (None, "", ()):
            raise UsageError(f"{s.option} is required{f' (or {s.env_var})' if s.env_var else ''}.")
        setattr(args, s.name, values[s.name])


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
