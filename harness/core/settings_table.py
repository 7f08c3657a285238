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
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from harness.core.durations import parse_duration
from harness.core.errors import UsageError

__all__ = [
    "COMMANDS_THAT_SEND",
    "COMMAND_SETTINGS",
    "ENV_PREFIX",
    "MAX_SECONDS",
    "SETTINGS",
    "Setting",
    "Type",
    "by_name",
    "check_url",
    "command_settings",
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
MAX_SPAN = 366 * 86400.0  # any span of virtual or real time: a year (as harness.simulate.outages.MAX_SPAN)
MAX_COUNT = 10**9  # any count without a bound of its own (requests, examples, concurrency)
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


def _real(low: float, high: float, *, above: bool, below: bool) -> Callable[[Any, str], float]:
    def parse(value: Any, where: str) -> float:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value if isinstance(value, int | float) else str(value).strip())
        except ValueError:
            raise UsageError(f"Invalid {where} {value!r}: must be a number.") from None
        low_ok = number > low if above else number >= low
        high_ok = number < high if below else number <= high
        if not math.isfinite(number) or not (low_ok and high_ok):
            raise UsageError(f"Invalid {where} {value!r}: must be {_range_text(low, high, above, below)}.")
        return number

    return parse


def _range_text(low: float, high: float, above: bool, below: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return "a finite number"
    if low == 0 and above:
        return f"positive and at most {high:g}"
    return f"from {low:g} {'(not included) ' if above else ''}up to {high:g}{' (not included)' if below else ''}"


def _span(high: float, positive: bool) -> Callable[[Any, str], float]:
    """Seconds from ``10s``, ``1.5``, ``2m``, ``1m30s`` or a number, finite, within ``0..high`` (above 0 when
    ``positive``); nan, inf, negatives and longer spans refused in one line naming ``where``."""
    kind = "positive" if positive else "non-negative"
    limit = f"{high / 86400:g} days" if high % 86400 == 0 else f"{high:g} seconds"

    def parse(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UsageError(f"Invalid {where} {value!r}: give seconds or a duration such as 10s.")
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"Invalid {where} {value!r}: must be a {kind} duration such as 10s.")
        seconds = parse_duration(value, what=where)
        if seconds < 0 or (positive and seconds == 0) or seconds > high:
            raise UsageError(f"Invalid {where} {value!r}: must be a {kind} duration of at most {limit}.")
        return seconds

    return parse


_duration = _span(MAX_SECONDS, positive=True)


def _span_list(value: Any, where: str) -> tuple[float, ...]:
    """Comma-separated durations (``1m,5m,30m``), or a list of them."""
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not items:
        raise UsageError(f"Invalid {where} {value!r}: give durations such as 1m,5m,30m.")
    parse = _span(MAX_SPAN, positive=False)
    return tuple(parse(item, f"{where} entry") for item in items)


def _texts(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings: one per option, or comma-separated in a variable."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"Invalid {where} {value!r}: give a list of strings.")


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
EVENT_TYPES = Type(
    "event types",
    _ids,
    {"type": "array", "items": {"type": "string", "minLength": 1}},
    "list of event types",
    "TYPE",
    repeat=True,
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


TEXTS = Type("texts", _texts, {"type": "array", "items": {"type": "string"}}, "list of strings", "TEXT", repeat=True)
DURATIONS = Type(
    "durations",
    _span_list,
    {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": ["string", "number"]}}]},
    'durations, comma-separated (`"1m,5m,30m"`)',
    "D,D,...",
)


def real(
    low: float = -math.inf, high: float = math.inf, *, above: bool = False, below: bool = False, metavar: str = "X"
) -> Type:
    """A finite number from ``low`` to ``high`` (``above``/``below``: the bound itself excluded)."""
    schema: dict[str, Any] = {"type": "number"}
    if not math.isinf(low):
        schema["exclusiveMinimum" if above else "minimum"] = low
    if not math.isinf(high):
        schema["exclusiveMaximum" if below else "maximum"] = high
    doc = "number" if math.isinf(low) and math.isinf(high) else f"number, {_range_text(low, high, above, below)}"
    return Type("number", _real(low, high, above=above, below=below), schema, doc, metavar)


FRACTION = real(0.0, 1.0, below=True, metavar="FRACTION")


def span(high: float = MAX_SPAN, *, positive: bool = False) -> Type:
    """A duration (``250ms``, ``90s``, ``2h30m`` or seconds) within ``0..high``, above 0 when ``positive``."""
    schema = {"oneOf": [{"type": "number", "minimum": 0, "maximum": high}, {"type": "string", "minLength": 1}]}
    doc = f'seconds or a duration (`"10s"`, `"1m30s"`), {"above 0 and " if positive else ""}at most {high:g} s'
    return Type("duration", _span(high, positive), schema, doc, "DURATION")


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
    scope: str | None = None  # a command's own setting: key [scope] NAME, variable WEBHOOK_HARNESS_<SCOPE>_<NAME>
    metavar: str | None = None  # the option's value in --help, if not its type's
    short: str | None = None  # a one-letter alias (-n)
    required: bool = False  # the command refuses to run without it (from any source)
    exclusive: str = ""  # settings sharing this name are mutually exclusive options

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
        if not self.env:
            return None
        scope = f"{self.scope}_".replace(" ", "_").replace("-", "_").upper() if self.scope else ""
        return ENV_PREFIX + scope + self.name.upper()

    @property
    def key(self) -> str:
        """How docs name its config-file key: ``max_time``, or ``[load] rate`` for a command's own."""
        return f"[{self.scope}] {self.name}" if self.scope else self.name

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
    Setting(
        "basic",
        BASIC,
        "HTTP Basic credentials (oci; sendgrid sends them with its signature)",
        commands=_CREDENTIALS,
        secret=True,
        group="auth",
    ),
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
        "events",
        EVENT_TYPES,
        "an event type the endpoint subscribes to (repeat); every check draws from them (default: all)",
        commands=frozenset({"check"}),
        flag_name="event",
        doc="Without it, event types refused every time while others are accepted are a warning naming them; an "
        "unknown type given here is a warning.",
    ),
    Setting(
        "content_type",
        TEXT,
        "a delivery encoding the profile declares: github's form sends payload=<json> (default: JSON)",
        commands=frozenset({"check"}),
        doc="Valid deliveries are then encoded that way and signed over those bytes.",
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

# -- each command's own settings -------------------------------------------------------------------------------------
# Options only one command takes. Each is read like a shared setting (option > environment > config file > default)
# under its command's scope: variable WEBHOOK_HARNESS_<COMMAND>_<NAME>, and key NAME in the config file's [command]
# table for the commands that read the config file.

_READS_CONFIG = _CATALOG - {"providers"}  # `providers` is also the config file's table of profile overrides


def _window(value: Any, where: str) -> float | str:
    """A duration, or ``none`` for no retry window."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return "none"
    return _span(MAX_SPAN, positive=False)(value, where)


WINDOW = Type(
    "window",
    _window,
    {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "minLength": 1}]},
    'a duration, or `"none"`',
    "DURATION",
)


def _scoped(scope: str, *settings: Setting) -> tuple[Setting, ...]:
    """``settings`` as ``scope``'s own: an option of that command only, never a pytest option."""
    reads_config = scope.split()[0] in _READS_CONFIG
    return tuple(
        replace(
            s,
            scope=scope,
            commands=frozenset({scope}),
            pytest=False,
            config=s.config and reads_config,
            group="" if s.group == "run" else s.group,  # the command's options, unless the entry names a section
        )
        for s in settings
    )


_SENT = "what is sent, and when"
_STORM = "the recovery storm"
_GATES = "SLO gates (exit 1 when one is violated; by default at most 1% failed requests and at least 95% of the rate)"
_OBJECTS = "lifecycle objects (with a state probe: how many end in the wrong state)"
_POLICY = "retry policy overrides (default: the provider's profile)"
COMMAND_SETTINGS: tuple[Setting, ...] = (
    *_scoped(
        "load",
        Setting("rate", real(), "events per second (default 10)", 10.0, group=_SENT, metavar="N"),
        Setting("duration", span(positive=True), "how long to send (default 30s)", 30.0, group=_SENT, metavar="D"),
        Setting(
            "ramp", TEXT, "rate rising (or falling) linearly from N to M over --duration", group=_SENT, metavar="N..M"
        ),
        Setting(
            "event",
            TEXTS,
            "event type or glob, e.g. invoice.* (repeat; default: every type)",
            (),
            group=_SENT,
            metavar="TYPE",
        ),
        Setting("duplicates", real(), "fraction re-sent as provider retries (0.05)", 0.0, group=_SENT, metavar="F"),
        Setting("servers", count(1, MAX_COUNT), "sendgrid: sending servers", 1, group=_SENT, metavar="K"),
        Setting(
            "concurrency",
            count(1, MAX_COUNT),
            "in-flight cap, a start beyond it is dropped (default: the busiest second's starts, 256 to 10,000)",
            group="sender",
            doc="The default rides out a one-second stall of the sender, the receiver or the machine without a "
            "drop; a receiver that stays behind still fills it. With --locust: the users (default 256).",
        ),
        Setting(
            "connections",
            count(1, MAX_COUNT),
            "keep-alive connections at most (default: --concurrency, at most 256); a start waits for a free one",
            group="sender",
            metavar="K",
            doc="Starts beyond the connections wait for one, their wait counted in their latency; only starts beyond "
            "--concurrency are dropped. With --processes, each process gets its share.",
        ),
        Setting("processes", count(1, MAX_COUNT), "sender processes (default 1)", 1, group="sender", metavar="P"),
        Setting("quiet", FLAG, "no live progress line", False, group="sender"),
        Setting(
            "locust",
            FLAG,
            "run on Locust instead (extra webhook-harness[locust]): --concurrency users share --rate, "
            "--processes Locust workers; exit 1 on any failed request",
            False,
            group="sender",
        ),
        Setting(
            "after_outage",
            span(positive=True),
            "play what the provider sends once the receiver is back from an outage",
            group=_STORM,
            metavar="D",
        ),
        Setting(
            "backlog_rate", real(), "events per second during the outage (default --rate)", group=_STORM, metavar="N"
        ),
        Setting("time_scale", real(), "X virtual seconds per second", 1.0, group=_STORM, metavar="X"),
        Setting("max_p99", TEXT, "p99 latency at most this (e.g. 250ms; no default)", group=_GATES, metavar="D"),
        Setting("max_error_rate", TEXT, "failed requests at most this share (default 1%)", group=_GATES, metavar="PCT"),
        Setting(
            "min_rate_achieved",
            TEXT,
            "achieved rate at least this share of target (default 95%)",
            group=_GATES,
            metavar="PCT",
        ),
        Setting("no_gates", FLAG, "no default gates: exit 1 only for the gates given", False, group=_GATES),
        Setting("html", PATH, "write an HTML page with rate and latency over time", group="reports"),
        Setting(
            "probe_sample",
            count(0, MAX_COUNT),
            "keys probed (default 1000; 0: all)",
            1000,
            group="probe scope",
            metavar="N",
        ),
        Setting("settle", span(), "wait before probing (default 2s)", 2.0, group="probe scope", metavar="D"),
    ),
    *_scoped(
        "replay",
        Setting("order", choice("original", "reverse", "shuffle"), "the order deliveries are sent in", "original"),
        Setting("duplicates", count(1, MAX_COUNT), "send each N times", 1, metavar="N"),
        Setting("rate", real(0, MAX_COUNT, above=True), "at most N deliveries per second", metavar="N"),
        Setting("filter", TEXTS, "only this event type (repeat)", (), metavar="EVENT"),
        Setting("new_ids", FLAG, "fresh idempotency keys, so a capture replays again", False),
        Setting("include_failed", FLAG, "also replay deliveries that failed verification when recorded", False),
        Setting("settle", span(), "wait before probing (1s)", 1.0, metavar="SECONDS"),
    ),
    *_scoped(
        "simulate",
        Setting(
            "events",
            count(0, 1_000_000_000),  # harness.simulate.engine.MAX_EVENTS: a dry run's memory stays flat
            "events to simulate (default 1000, or the scenario's entities; at most 1,000,000,000 in a dry run, "
            "100,000,000 scenario entities, 1,000,000 where every event is held: a URL, --time-scale, a lifecycle)",
        ),
        Setting("spread", span(), "events arrive uniformly over this long (default 24h)", 86400.0),
        Setting(
            "event",
            TEXTS,
            "an event type or glob the endpoint subscribes to, e.g. pull_request.* (repeat; default: every type)",
            (),
            metavar="TYPE",
        ),
        Setting("outage", TEXTS, "receiver down, from t=0: 2h..8h (repeat)", (), metavar="START..END"),
        Setting("scenario", PATH, "a scenario file (see docs/scenarios.md)", metavar="FILE"),
        Setting("dry_run", FLAG, "send nothing; the receiver is up outside outages", False),
        Setting("time_scale", real(0, 1e9, above=True), "scaled real time for soak runs: X virtual s per s"),
        Setting("timeline", PATH, "write a self-contained HTML/SVG timeline of attempts"),
        Setting("concurrency", count(1, 1024), "parallel requests (default 64, at most 1024)", 64),
        Setting("max_requests", count(0, MAX_COUNT), "stop after this many requests (100000)", 100_000),
        Setting("max_time", span(positive=True), "stop after this long in real time (default 10m)", 600.0),
        Setting(
            "probe_sample",
            count(0, MAX_COUNT),
            "look up at most N delivered events with the probe, a seeded sample (default 2000; 0: every one)",
            2000,
        ),
        Setting(
            "pass_through_rate",
            FRACTION,
            "share of events carrying one unusual value a person typed (NUL, emoji, RTL marks, 10 KB, 2^53+1) in a "
            "field the profile names (default 0.01; 0: off)",
        ),
        Setting("quiet", FLAG, "no progress bar", False),
        Setting("lifecycle", TEXT, "send this lifecycle's objects (--events // steps)", group=_OBJECTS, metavar="NAME"),
        Setting("out_of_order", FRACTION, "fraction of their events delivered late (default 0)", 0.0, group=_OBJECTS),
        Setting("reorder_by", span(), "up to how late (5m)", 300.0, group=_OBJECTS),
        Setting("window", WINDOW, "rolling retry window per event, or 'none'", group=_POLICY),
        Setting("max_attempts", count(0, MAX_COUNT), "total attempts including the first (0: no cap)", group=_POLICY),
        Setting("delays", DURATIONS, "waits after the 1st, 2nd, ... failure: 1m,5m,30m", group=_POLICY),
        Setting(
            "factor", real(0, 1000, above=True), "multiply the last delay by this once the list ends", group=_POLICY
        ),
        Setting("max_delay", span(), "cap on a single wait", group=_POLICY),
        Setting("jitter", FRACTION, "± fraction applied to each wait (0.1)", group=_POLICY),
    ),
    *_scoped(
        "sequences",
        Setting("lifecycle", TEXTS, "only this one (repeat)", (), metavar="NAME"),
        Setting("max_examples", count(1, 10_000), "schedules per lifecycle (50)", 50),
        Setting(
            "settle_timeout",
            span(3600.0, positive=True),
            "how long the state may take to reach the expected one after a schedule (default 2s)",
            2.0,
        ),
        Setting("concurrency", count(1, 8), "deliveries in flight together, at most (default 2)", 2),
        Setting("junitxml", PATH, "write JUnit XML for a CI gate"),
    ),
    *_scoped(
        "send",
        Setting("event", TEXT, "event type (default: a random one)", metavar="TYPE"),
        Setting("variant", TEXT, "send a forgery instead: missing, wrong-key, tampered-body, ..."),
    ),
    *_scoped(
        "record",
        Setting("host", TEXT, "address to bind (default 127.0.0.1)", "127.0.0.1"),
        Setting("port", count(0, 65535), "port (default 8787; 0 picks one)", 8787),
        Setting("out", PATH, "JSON Lines file, appended to (default PROVIDER-recording.jsonl)", metavar="FILE"),
        Setting("forward", URL, "tap mode: relay each delivery unchanged to this receiver"),
        Setting("keep_auth", FLAG, "store Authorization, signature and cookie headers as received", False),
        Setting(
            "max_bytes",
            count(1, 1 << 50),
            "stop storing (answer 503) once this session wrote N bytes (default 1,073,741,824, 1 GiB)",
            1 << 30,
        ),
        Setting(
            "max_records", count(1, MAX_COUNT), "stop storing (answer 503) after N records (default 100,000)", 100_000
        ),
        Setting(
            "accept_unverified",
            FLAG,
            "store and answer 2xx deliveries that fail verification (default with credentials: 401, not stored)",
            False,
        ),
        Setting(
            "allow_local_confirmation",
            FLAG,
            "let a handshake's confirmation URL be a loopback address (default: only the provider's own hosts)",
            False,
        ),
    ),
    *_scoped(
        "drift",
        Setting("report", PATH, "write a JSON report"),
        Setting("propose", PATH, "write widened schemas as a catalog overlay (--schemas DIR)", metavar="DIR"),
        Setting("force", FLAG, "with --propose: replace an existing DIR/PROVIDER", False, env=False, config=False),
        Setting("strict", FLAG, "added fields and unknown event types fail too", False),
    ),
    *_scoped(
        "import",
        Setting("id", TEXT, "the new provider's id", metavar="NAME", required=True),
        Setting("out", PATH, "the catalog folder to write into", metavar="DIR", required=True),
        Setting(
            "scheme",
            TEXT,
            "signing: copy a built-in provider's declarative scheme, or read an auth.hmac description (default:"
            " guessed from the spec's signature header)",
            metavar="PROVIDER|FILE.json",
        ),
        Setting("event_header", TEXT, "the header that names the event type", metavar="H"),
        Setting("event_pointer", TEXT, "the body field (JSON Pointer) that names the event type", metavar="P"),
        Setting("allow_remote_refs", FLAG, "fetch $refs to http(s) URLs", False),
        Setting(
            "allow_local_refs",
            TEXTS,
            "also read local $refs under DIR (default: only files under the spec's own folder; repeat)",
            (),
            metavar="DIR",
        ),
        Setting("force", FLAG, "replace an existing provider folder", False, env=False, config=False),
        Setting(
            "allow_partial", FLAG, "exit 0 even when some webhooks could not be imported (they are still listed)", False
        ),
    ),
    *_scoped(
        "pact export",
        Setting("consumer", TEXT, "the consumer's name in the pact", metavar="NAME", required=True),
        Setting("event", TEXTS, "only this event type (repeat; default: all)", (), metavar="TYPE"),
        Setting("out", PATH, "folder the pact file is written to", metavar="DIR", required=True),
    ),
    *_scoped(
        "pact verify",
        Setting(
            "provider", TEXT, "catalog provider to verify against (default: the pact's provider name)", metavar="ID"
        ),
        Setting("examples", count(1, 1000), "provider examples per interaction (1..1000, default 20)", 20),
        Setting("seed", count(0, MAX_COUNT), "seed (printed on every run)"),
        Setting("report", PATH, "write a JSON report"),
        Setting("junitxml", PATH, "write JUnit XML for a CI gate"),
    ),
    *_scoped(
        "generate",
        Setting("event", TEXT, "event type (default: any)", metavar="TYPE"),
        Setting("count", count(0, MAX_COUNT), "how many (default 1)", 1, short="-n"),
        Setting("now", real(), "Unix time the timestamps are near (default: today, 00:00 UTC)", metavar="NOW"),
        Setting("seed", count(0, MAX_COUNT), "seed (default 0)", 0),
        Setting("invalid", FLAG, "schema-invalid payloads", False, exclusive="kind"),
        Setting("malformed", FLAG, "malformed bodies", False, exclusive="kind"),
        Setting("novel", FLAG, "unknown fields and event types (still valid)", False, exclusive="kind"),
        Setting(
            "format",
            choice("jsonl", "record", "http"),
            "jsonl: one delivery body per line (default; a pretty-printed body is put on one line); record: the "
            "`record` file format (replay reads it); http: raw requests, byte for byte",
            "jsonl",
        ),
    ),
    *_scoped(
        "keygen",
        Setting("out", PATH, "private key file (default: PROVIDER-signing-key.pem)"),
        Setting("force", FLAG, "overwrite an existing key file", False, env=False, config=False),
    ),
    *_scoped(
        "init",
        Setting("out", PATH, "where to write it", "webhook-harness.toml"),
        Setting("force", FLAG, "overwrite an existing file", False, env=False, config=False),
    ),
    *_scoped(
        "receiver",
        Setting("host", TEXT, "address to listen on (default 127.0.0.1)", "127.0.0.1"),
        Setting("port", count(0, 65535), "port (default: any free one)", 0),
        Setting("bug", TEXT, "inject a deliberate bug (see --list-bugs)", metavar="NAME"),
        Setting(
            "mode",
            choice("strict", "lenient", "queue-first"),
            "a correct receiver's style: strict (schema-validates), lenient (tolerant reader), queue-first "
            "(answers 2xx, stores a moment later)",
            "strict",
        ),
        Setting(
            "db", TEXT, "SQLAlchemy URL to store events in (default: a temp SQLite file)", metavar="URL", secret=True
        ),
        Setting(
            "public_url",
            URL,
            "the URL providers post to, as registered with them, for schemes that sign it (Square) when this "
            "receiver sits behind a proxy or tunnel (default: the URL each request names)",
        ),
        Setting("list_bugs", FLAG, "list the deliberate bugs and the checks they fail", False, env=False, config=False),
    ),
    *_scoped(
        "providers",
        Setting(
            "event", TEXTS, "with PROVIDER: only event types matching GLOB (pull_request.*; repeat)", (), metavar="GLOB"
        ),
        Setting("details", FLAG, "also list every event type, header and assumption", False),
        Setting("json", FLAG, "print the catalog as JSON", False),
    ),
)
_BY_SCOPE: dict[str, tuple[Setting, ...]] = {}
for _setting in COMMAND_SETTINGS:
    _BY_SCOPE[_setting.scope or ""] = (*_BY_SCOPE.get(_setting.scope or "", ()), _setting)


def command_settings(scope: str) -> tuple[Setting, ...]:
    """A command's own settings (``"load"``, ``"pact export"``), in table order."""
    return _BY_SCOPE.get(scope, ())


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
    for scope, settings in _BY_SCOPE.items():
        keys = {
            s.name: {**s.type.schema, "description": s.help[:1].upper() + s.help[1:] + "."}
            for s in settings
            if s.config
        }
        if keys:
            properties[scope] = {
                "description": f"The `{scope}` command's own settings (its options of the same names).",
                "type": "object",
                "additionalProperties": False,
                "properties": keys,
            }
    return properties


def markdown_table() -> str:
    """The key table of ``docs/config.md``: every setting, how each front end spells it, and where it applies."""
    rows = [
        "| key | type | option | environment variable | commands | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for s in (*SETTINGS, *COMMAND_SETTINGS):
        key = f"`{s.key}`" if s.config else f"({s.key}: no key)"
        spellings = [f"argument ({', '.join(sorted(s.positional))})"] if s.positional else []
        spellings += [f"`{s.option}`"] if s.commands else []
        option = " or ".join(spellings)
        if s.pytest:
            option += f"{', ' if option else ''}`{s.pytest_option}`, ini `{s.ini}`"
        commands = ", ".join(sorted(s.commands | s.positional))
        default = f" Default: {s.default}." if s.default not in (None, False) else ""
        meaning = f"{s.help[:1].upper()}{s.help[1:].rstrip('.')}.{default}" + (f" {s.doc}" if s.doc else "")
        env = f"`{s.env_var}`" if s.env_var else "(none)"
        rows.append(f"| {key} | {s.type.doc} | {option} | {env} | {commands} | {meaning} |")
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
