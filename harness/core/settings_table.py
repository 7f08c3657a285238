"""Every setting declared once: name, type, default, environment variable, config key, help and where it applies.

The command-line options of every command, the pytest plugin's options and ini keys, the config file's JSON Schema
and the generated key table of ``docs/config.md`` all derive from ``SETTINGS``; ``resolve_values`` applies the one
precedence (option > environment variable > config file > default) with the one parser of each type.
Adding a setting is one ``Setting(...)`` entry here plus the code that uses its value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.core.durations import parse_duration
from harness.core.errors import UsageError

__all__ = [
    "COMMANDS_THAT_SEND",
    "ENV_PREFIX",
    "MAX_SECONDS",
    "SETTINGS",
    "Setting",
    "Type",
    "by_name",
    "check_url",
    "config_schema",
    "env_text",
    "for_command",
    "for_pytest",
    "markdown_table",
    "parse_header",
    "resolve_values",
]

ENV_PREFIX = "WEBHOOK_HARNESS_"
MAX_SECONDS = 7 * 86400.0  # a timeout or budget longer than a week is a typo
_UNSET: tuple[Any, ...] = (None, "", [], ())


# -- one parser per type -------------------------------------------------------------------------------------------
# Each takes a value from any source (an option's text, an environment variable, an ini value, a config-file value)
# and the name the user wrote it under, and returns the typed value or raises a one-line UsageError naming it.


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise UsageError(f"Invalid {where} {value!r}: must be text.")
    return str(value)


def _redacted(url: str) -> str:
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)


def check_url(value: Any, where: str) -> str:
    """An http(s) URL with a host and a connectable port (``{event_id}`` allowed), or one line naming ``where``."""
    url = _text(value, where)
    try:
        parts = urlsplit(url.replace("{event_id}", "x"))
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"Invalid {where} {_redacted(url)!r}: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"Invalid {where} {_redacted(url)!r}: must start with http:// or https:// and name a host.")
    if port == 0:
        raise UsageError(f"Invalid {where} {_redacted(url)!r}: port 0 cannot be connected to.")
    return url


def _duration(value: Any, where: str) -> float:
    """Seconds from ``10s``, ``1.5``, ``2m``, ``1m30s`` or a number; nan, inf, zero, negatives and > 7 days refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UsageError(f"Invalid {where} {value!r}: give seconds or a duration such as 10s.")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"Invalid {where} {value!r}: must be a positive duration such as 10s.")
    seconds = parse_duration(value, what=where)
    if seconds <= 0 or seconds > MAX_SECONDS:
        raise UsageError(f"Invalid {where} {value!r}: must be a positive duration of at most 7 days.")
    return seconds


def _count(low: int, high: int) -> Callable[[Any, str], int]:
    def parse(value: Any, where: str) -> int:
        if isinstance(value, bool):
            raise UsageError(f"Invalid {where} {value!r}: must be a whole number.")
        try:
            number = value if isinstance(value, int) else int(str(value).strip(), 10)
        except ValueError:
            raise UsageError(f"Invalid {where} {value!r}: must be a whole number.") from None
        if not low <= number <= high:
            raise UsageError(f"Invalid {where} {value!r}: must be from {low} to {high}.")
        return number

    return parse


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise UsageError(f"Invalid {where} {value!r}: write true or false.")


def _choice(*choices: str) -> Callable[[Any, str], str]:
    def parse(value: Any, where: str) -> str:
        if value not in choices:
            raise UsageError(f"Invalid {where} {value!r}: use {' or '.join(choices)}.")
        return str(value)

    return parse


def _ids(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(w for v in value for w in v.replace(",", " ").split() if w)
    raise UsageError(f"Invalid {where} {value!r}: give check ids.")


def _fields(value: Any, where: str) -> tuple[str, ...]:
    """``FIELD=/json/pointer`` items: one per option, or whitespace-separated in a variable."""
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
        raise UsageError(f"Invalid {where} {value!r}: give FIELD=/json/pointer, e.g. status=/subscription/status.")
    for item in items:
        name, sep, pointer = item.partition("=")
        if not sep or not name or not (pointer == "" or pointer.startswith("/")):
            raise UsageError(f"Invalid {where} {item!r}: give FIELD=/json/pointer, e.g. status=/subscription/status.")
    return tuple(items)


def parse_header(text: str, where: str = "--header") -> tuple[str, str]:
    """``'Name: value'`` as a pair; a malformed header is a usage error (its value never echoed)."""
    name, sep, value = str(text).partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or any(c in value for c in "\r\n"):
        raise UsageError(f"Invalid {where} {str(text).split(':')[0][:40]!r}: write 'Name: value' on one line.")
    return name, value


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """A table of names to values (config file), or ``'Name: value'`` texts (options; one per line in a variable)."""
    if isinstance(value, Mapping):
        if not all(isinstance(v, str) for v in value.values()):
            raise UsageError(f"Invalid {where}: must be a table of header names to string values.")
        return tuple(parse_header(f"{k}: {v}", where) for k, v in value.items())
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
        raise UsageError(f"Invalid {where}: give headers as 'Name: value'.")
    return tuple(parse_header(item, where) for item in items if item.strip())


def _basic(value: Any, where: str) -> tuple[str, str]:
    if isinstance(value, str) and ":" in value:
        user, _, password = value.partition(":")
        return user, password
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return str(value[0]), str(value[1])
    raise UsageError(f"Invalid {where} value: write USER:PASS.")


@dataclass(frozen=True, slots=True)
class Type:
    """A setting's type: its one parser, its JSON Schema in the config file, and how docs and options show it."""

    name: str
    parse: Callable[[Any, str], Any]
    schema: Mapping[str, Any]
    doc: str
    metavar: str = "VALUE"
    flag: bool = False  # an option without a value (--strict)
    repeat: bool = False  # an option given once per item (--header A --header B)


TEXT = Type("text", _text, {"type": "string"}, "string", "TEXT")
PATH = Type("path", _text, {"type": "string"}, "string (a path)", "PATH")
URL = Type("url", check_url, {"type": "string"}, "string (http:// or https:// URL)", "URL")
DURATION = Type(
    "duration",
    _duration,
    {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "minLength": 1}]},
    'seconds or a duration (`"10s"`, `"1m30s"`)',
    "DURATION",
)
FLAG = Type("flag", _flag, {"type": "boolean"}, "boolean", flag=True)
IDS = Type(
    "ids", _ids, {"type": "array", "items": {"type": "string", "minLength": 1}}, "list of check ids", "ID", repeat=True
)
HEADERS = Type(
    "headers",
    _headers,
    {"type": "object", "additionalProperties": {"type": "string"}},
    "table of strings",
    "'NAME: VALUE'",
    repeat=True,
)
FIELDS = Type(
    "fields",
    _fields,
    {"type": "array", "items": {"type": "string", "pattern": "^[^=]+=(/.*)?$"}},
    "list of `FIELD=/json/pointer`",
    "FIELD=/POINTER",
    repeat=True,
)
BASIC = Type(
    "basic",
    _basic,
    {
        "oneOf": [
            {"type": "string", "pattern": ":"},
            {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        ]
    },
    '`"USER:PASS"` or `["USER", "PASS"]`',
    "USER:PASS",
)


def count(low: int, high: int) -> Type:
    """A whole number from ``low`` to ``high``."""
    schema = {"type": "integer", "minimum": low, "maximum": high}
    return Type(f"count {low}..{high}", _count(low, high), schema, f"integer {low}..{high}", "N")


def choice(*choices: str) -> Type:
    """One of ``choices``."""
    doc = " or ".join(f'`"{c}"`' for c in choices)
    return Type("choice", _choice(*choices), {"enum": list(choices)}, doc, "{" + ",".join(choices) + "}")


# -- where settings apply ------------------------------------------------------------------------------------------

COMMANDS_THAT_SEND = frozenset({"check", "send", "replay", "load", "simulate", "sequences"})
"""Commands that send deliveries: they share credentials, network options, the seed and the timeout."""
_CATALOG = frozenset({"providers", "generate", "receiver", "record", "drift"}) | COMMANDS_THAT_SEND
_CREDENTIALS = frozenset({"receiver", "record", "drift"}) | COMMANDS_THAT_SEND
_PROBE = frozenset({"check", "replay", "load", "simulate"})
_REPORT = frozenset({"check", "replay", "load", "simulate", "sequences"})
_STATE = frozenset({"check", "simulate", "sequences"})  # the state probe: converges, objects, sequences


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: every front end reads it under derived names (``--max-time``, ``--webhook-max-time``,
    ``webhook_max_time``, ``WEBHOOK_HARNESS_MAX_TIME``, config key ``max_time``)."""

    name: str
    type: Type
    help: str
    default: Any = None
    commands: frozenset[str] = frozenset()  # the CLI commands that take it as an option
    positional: frozenset[str] = frozenset()  # the commands that take it as a positional argument instead
    pytest: bool = True  # a --webhook-* option and webhook_* ini key of the pytest plugin
    config: bool = True  # a key of the config file
    env: bool = True  # read from WEBHOOK_HARNESS_<NAME>
    secret: bool = False  # never printed, never in a "Replay with:" line
    group: str = "run"  # the --help section
    flag_name: str | None = None  # the option's name when it differs from the setting's (--check for checks)
    doc: str = ""  # more words for docs/config.md than the --help line holds
    label: str | None = None  # how errors name it when given on the command line, if not by its option

    @property
    def what(self) -> str:
        """How an error names a value given on the command line: ``--max-time``, or ``receiver URL``."""
        return self.label or self.option

    @property
    def option(self) -> str:
        """The command-line option: ``--max-time``."""
        return "--" + (self.flag_name or self.name.replace("_", "-"))

    @property
    def pytest_option(self) -> str:
        """The pytest option: ``--webhook-max-time``."""
        return "--webhook-" + (self.flag_name or self.name.replace("_", "-"))

    @property
    def ini(self) -> str:
        """The pytest ini key: ``webhook_max_time`` (``webhook_check``, as the option is named)."""
        return "webhook_" + (self.flag_name or self.name).replace("-", "_")

    @property
    def env_var(self) -> str | None:
        """The environment variable, if the setting has one."""
        return ENV_PREFIX + self.name.upper() if self.env else None

    def parse(self, value: Any, where: str | None = None) -> Any:
        """The typed value, or a one-line UsageError naming ``where`` (default: the option)."""
        return self.type.parse(value, where or self.what)

    def usage_help(self) -> str:
        """The --help line, with the environment variable that also sets it."""
        return f"{self.help} (env {self.env_var})" if self.env_var else self.help


_SENDS = COMMANDS_THAT_SEND
SETTINGS: tuple[Setting, ...] = (
    # -- target
    Setting(
        "provider",
        TEXT,
        "provider id (sendgrid, stripe, github, ...)",
        commands=frozenset({"replay"}),
        positional=frozenset({"check", "send", "load", "simulate", "sequences"}),
        group="target",
    ),
    Setting(
        "url",
        URL,
        "receiver URL (http:// or https://)",
        positional=frozenset({"check", "send", "load", "simulate", "sequences"}),
        group="target",
        label="receiver URL",
        doc="With it, `check PROVIDER` needs no URL argument and the pytest plugin turns its contract suite on. "
        "User-info in the URL (`https://user:pass@host/`) becomes the Basic credentials.",
    ),
    Setting(
        "schemas",
        PATH,
        "a folder of provider folders that add to or replace the built-in catalog",
        commands=_CATALOG,
        group="catalog",
    ),
    Setting(
        "config",
        PATH,
        "config file (default: ./webhook-harness.toml or [tool.webhook-harness] in ./pyproject.toml)",
        commands=_CATALOG,
        config=False,
        group="catalog",
    ),
    # -- credentials: which ones are given chooses the auth mode
    Setting(
        "secret",
        TEXT,
        "shared secret; teams: the base64 security token; stripe/standard: whsec_...",
        commands=_CREDENTIALS,
        secret=True,
        group="auth",
    ),
    Setting(
        "signing_key",
        TEXT,
        "path to (or PEM text of) the ECDSA P-256 private key for SendGrid's signed webhook",
        commands=_CREDENTIALS,
        secret=True,
        group="auth",
    ),
    Setting(
        "token_url", URL, "OAuth2 client-credentials token endpoint (sendgrid)", commands=_CREDENTIALS, group="auth"
    ),
    Setting("client_id", TEXT, "OAuth2 client id", commands=_CREDENTIALS, group="auth"),
    Setting("client_secret", TEXT, "OAuth2 client secret", commands=_CREDENTIALS, secret=True, group="auth"),
    Setting(
        "oauth_credentials_in",
        choice("basic", "form"),
        "send the OAuth client credentials as HTTP Basic (default) or as form fields",
        commands=_CREDENTIALS,
        group="auth",
    ),
    Setting("basic", BASIC, "HTTP Basic credentials (oci)", commands=_CREDENTIALS, secret=True, group="auth"),
    Setting("bearer", TEXT, "a static bearer token", commands=_CREDENTIALS, secret=True, group="auth"),
    # -- side-effect probe
    Setting(
        "probe_url",
        URL,
        'GET, {event_id} substituted; answers a JSON number or {"count": n}',
        commands=_PROBE,
        group="probe",
    ),
    Setting("probe_db", TEXT, "SQLAlchemy database URL for a SQL probe", commands=_PROBE, secret=True, group="probe"),
    Setting("probe_sql", TEXT, "SQL returning the count; binds :event_id", commands=_PROBE, group="probe"),
    # -- state probe: the receiver's view of one lifecycle object (docs/sequences.md)
    Setting(
        "state_url",
        URL,
        "GET, {object_id} substituted; answers the object as JSON, 404 when there is none",
        commands=_STATE,
        group="state",
        doc="Turns on the `converges` check; `sequences` needs it (or `state_db` with `state_sql`).",
    ),
    Setting(
        "state_db", TEXT, "SQLAlchemy database URL for a SQL state probe", commands=_STATE, secret=True, group="state"
    ),
    Setting("state_sql", TEXT, "SQL returning the object's one row; binds :object_id", commands=_STATE, group="state"),
    Setting(
        "state_fields",
        FIELDS,
        "where a lifecycle field sits in the state view, FIELD=/pointer (repeat; default /FIELD)",
        commands=_STATE,
        group="state",
        flag_name="state-field",
    ),
    # -- network: every request a command makes (deliveries, token requests, HTTP probes)
    Setting("ca_bundle", PATH, "trust the CA certificates in this PEM file", commands=_SENDS, group="network"),
    Setting("client_cert", PATH, "client certificate PEM for mutual TLS", commands=_SENDS, group="network"),
    Setting("client_key", PATH, "its private key PEM (if not in --client-cert)", commands=_SENDS, group="network"),
    Setting(
        "insecure", FLAG, "do not verify TLS certificates (test setups only)", False, commands=_SENDS, group="network"
    ),
    Setting("proxy", URL, "send all traffic through this HTTP(S) proxy", commands=_SENDS, group="network"),
    Setting(
        "trust_env",
        FLAG,
        "honour HTTP(S)_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE from the environment",
        False,
        commands=_SENDS,
        group="network",
    ),
    Setting(
        "headers",
        HEADERS,
        "an extra, unsigned header on every request, for API gateways and WAFs (repeat); "
        "hidden in output when its name looks secret",
        commands=_SENDS,
        group="network",
        flag_name="header",
        doc="A `--header 'Name: value'` of the same name wins over the file's. In the environment variable, "
        "one header per line.",
    ),
    # -- the run
    Setting(
        "seed",
        count(0, 2**32 - 1),
        "seed for payloads and Hypothesis (printed on every run)",
        commands=_SENDS,
        pytest=False,
    ),
    Setting(
        "timeout",
        DURATION,
        "receiver timeout: seconds or 10s, 1m30s (default: the provider's; simulate: how long the provider waits)",
        commands=_SENDS,
    ),
    Setting(
        "max_examples",
        count(1, 100_000),
        "fuzzed examples per fuzzing check (default 20)",
        20,
        commands=frozenset({"check"}),
    ),
    Setting(
        "max_time",
        DURATION,
        "run budget: after it nothing is sent and unfinished checks are blocked (default: 10 timeouts, at least 5m)",
        commands=frozenset({"check"}),
    ),
    Setting(
        "settle_timeout",
        DURATION,
        "how long a probe read waits for the stored count to settle",
        5.0,
        commands=frozenset({"check"}),
        group="verdicts",
    ),
    Setting(
        "callback_host",
        TEXT,
        "host the receiver can reach us on, for OCI's confirmation URL",
        "127.0.0.1",
        commands=frozenset({"check"}),
    ),
    Setting("report", PATH, "write the JSON report here", commands=_REPORT),
    Setting(
        "junitxml",
        PATH,
        "write JUnit XML (the pytest plugin's names and text) for a CI gate",
        commands=frozenset({"check"}),
        pytest=False,  # pytest has its own --junitxml
    ),
    Setting("quiet", FLAG, "no live progress line on a terminal", False, commands=frozenset({"check"}), pytest=False),
    Setting(
        "checks",
        IDS,
        "run only this check (repeat)",
        commands=frozenset({"check"}),
        flag_name="check",
        doc="A list selects the checks to run. A table sets per-check settings: `[checks.<id>]` with "
        '`severity = "error"`, `"warn"` or `"off"` (the same as `--error ID` / `--warn ID`).',
    ),
    Setting(
        "exclude_checks", IDS, "skip this check (repeat)", commands=frozenset({"check"}), flag_name="exclude-check"
    ),
    Setting(
        "warn",
        IDS,
        "report this check's findings as warnings (repeat)",
        commands=frozenset({"check"}),
        config=False,
        group="verdicts",
    ),
    Setting(
        "error",
        IDS,
        "make this check's findings fail the run (repeat)",
        commands=frozenset({"check"}),
        config=False,
        group="verdicts",
    ),
    Setting(
        "strict", FLAG, "every warn-level check fails the run", False, commands=frozenset({"check"}), group="verdicts"
    ),
    Setting(
        "fail_fast",
        FLAG,
        "stop at the first failed or blocked check",
        False,
        commands=frozenset({"check"}),
        group="verdicts",
    ),
)
# The config file's ``checks`` key is also a table of per-check severities; its schema says so (config_schema).

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def by_name(name: str) -> Setting:
    """The setting called ``name``."""
    return _BY_NAME[name]


def for_command(command: str) -> tuple[Setting, ...]:
    """The settings a CLI command takes, as options or positional arguments, in table order."""
    return tuple(s for s in SETTINGS if command in s.commands or command in s.positional)


def for_pytest() -> tuple[Setting, ...]:
    """The settings the pytest plugin takes as ``--webhook-*`` options and ``webhook_*`` ini keys."""
    return tuple(s for s in SETTINGS if s.pytest)


def config_schema() -> dict[str, Any]:
    """The ``properties`` of the config file's JSON Schema, derived from the table."""
    properties: dict[str, Any] = {}
    for s in SETTINGS:
        if s.config:
            properties[s.name] = {**s.type.schema, "description": s.help[:1].upper() + s.help[1:] + "."}
    severities = {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"severity": {"enum": ["error", "warn", "off"]}},
        },
    }
    properties["checks"] = {
        "description": properties["checks"]["description"],
        "oneOf": [{k: v for k, v in properties["checks"].items() if k != "description"}, severities],
    }
    return properties


def markdown_table() -> str:
    """The key table of ``docs/config.md``: every setting, how each front end spells it, and where it applies."""
    rows = [
        "| key | type | option | environment variable | commands | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        key = f"`{s.name}`" if s.config else f"({s.name}: no key)"
        spellings = [f"argument ({', '.join(sorted(s.positional))})"] if s.positional else []
        spellings += [f"`{s.option}`"] if s.commands else []
        option = " or ".join(spellings)
        if s.pytest:
            option += f"{', ' if option else ''}`{s.pytest_option}`, ini `{s.ini}`"
        commands = ", ".join(sorted(s.commands | s.positional))
        default = f" Default: {s.default}." if s.default not in (None, False) else ""
        meaning = f"{s.help[:1].upper()}{s.help[1:].rstrip('.')}.{default}" + (f" {s.doc}" if s.doc else "")
        rows.append(f"| {key} | {s.type.doc} | {option} | `{s.env_var}` | {commands} | {meaning} |")
    return "\n".join(rows)


def env_text(value: Any) -> str:
    """A typed value as its environment variable holds it (what the type's parser reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "\n".join(f"{name}: {text}" for name, text in value)  # headers, one per line
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return f"{value[0]}:{value[1]}"  # Basic credentials
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, float) else str(value)


def resolve_values(
    settings: Iterable[Setting],
    options: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    config: Mapping[str, Any],
    source: str | None = None,
    label: Callable[[Setting], str] = lambda s: s.what,
    sources: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Each setting's typed value: the option (``None``: not given) > environment > config file > default.

    A bad value is a one-line UsageError naming where it came from: the option, the variable or the file's key.
    Header lists merge across sources by name, the higher source winning. ``sources``, if given, receives where each
    value found came from: ``"option"``, ``"env"`` or ``"config"``.
    """
    values: dict[str, Any] = {}
    for s in settings:
        found: list[tuple[Any, str]] = []
        kinds: list[str] = []
        if options.get(s.name) not in _UNSET:
            found.append((options[s.name], label(s)))
            kinds.append("option")
        if s.env_var and env.get(s.env_var) not in _UNSET:
            found.append((env[s.env_var], s.env_var))
            kinds.append("env")
        in_file = config.get(s.name) if s.config else None
        if in_file not in _UNSET and (s.type is HEADERS or not isinstance(in_file, Mapping)):  # a table: severities
            found.append((in_file, f"{s.name} (from {source})" if source else s.name))
            kinds.append("config")
        if sources is not None and kinds:
            sources[s.name] = kinds[0]
        if s.type is HEADERS:
            merged: dict[str, tuple[str, str]] = {}
            for value, where in reversed(found):
                merged.update({name.lower(): (name, v) for name, v in s.parse(value, where)})
            values[s.name] = tuple(merged.values())
        elif found:
            values[s.name] = s.parse(*found[0])
        else:
            values[s.name] = s.default
    return values
