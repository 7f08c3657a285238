"""What a run says: terminal lines in the Schemathesis style, a JSON report, and curl commands that replay."""

from __future__ import annotations

import json
import os
import platform
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from harness.checks import categories
from harness.core.models import Delivery
from harness.credentials import Redactor
from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.checks import CheckOutcome
    from harness.runner import RunResult

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "curl_command",
    "ensure_writable",
    "redact_url",
    "render_blocked",
    "render_outcome",
    "render_summary",
    "write_json",
]

_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")
CATEGORIES: dict[str, str] = categories()  # from each check's registration
STATUSES = ("passed", "failed", "warned", "skipped", "blocked")


def redact_url(url: str) -> str:
    """The URL without a password in its user-info."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def _ansi_c(data: bytes) -> str:
    """Bash $'...' quoting of arbitrary bytes."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("\\'")
        elif 32 <= byte < 127:
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def _printf_format(data: bytes) -> str:
    """A single-quoted printf format that prints exactly ``data`` (octal escapes for anything unprintable)."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("'\\''")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"


def curl_command(delivery: Delivery, url: str, redactor: Redactor | None = None, *, max_body: int = 16384) -> str:
    """A curl command that sends the same bytes and headers; credentials appear only as ``***``."""
    redact = redactor or Redactor()
    target = url
    if delivery.url_userinfo:
        parts = urlsplit(url)
        target = urlunsplit(parts._replace(netloc=f"{delivery.url_userinfo[0]}:***@{parts.netloc.rpartition('@')[2]}"))
    words = ["curl", "-sS", "-i", "-X", delivery.method, redact(redact_url(target))]
    for name, value in redact.headers(delivery.headers).items():
        if name.lower() in _SECRET_HEADERS and " " not in value:
            value = "***"
        words += ["-H", f"{name}: {value}"]
    command = shlex.join(words)
    if len(delivery.body) > max_body:
        return command + f" --data-binary @body.bin  # body of {len(delivery.body)} bytes not shown"
    if b"\x00" in delivery.body:  # a shell word cannot hold NUL: let printf produce the bytes on stdin
        return f"printf -- {redact(_printf_format(delivery.body))} | {command} --data-binary @-"
    return command + " --data-binary " + redact(_ansi_c(delivery.body))


def render_outcome(outcome: CheckOutcome) -> str:
    """One line per check, like Schemathesis: id, verdict, time (and why it was skipped or blocked)."""
    verdict = outcome.status.upper()
    extra = f"  ({outcome.notes[0]})" if outcome.status in ("skipped", "blocked") and outcome.notes else ""
    return f"{outcome.check:<26} {verdict:<8} {outcome.duration:6.2f}s  {outcome.requests:>3} requests{extra}"


def render_blocked(outcomes: Iterable[CheckOutcome]) -> str:
    """The one finding that explains every blocked check: a correct delivery does not get through."""
    blocked = [o for o in outcomes if o.status == "blocked"]
    if not blocked:
        return ""
    cause = blocked[0].notes[0] if blocked[0].notes else "the valid delivery was refused"
    names = ", ".join(o.check for o in blocked)
    return (
        f"__ blocked __\nA correct delivery does not get through, so the checks that expect a refusal prove nothing: "
        f"{names}\n  Cause:    {cause[0].upper()}{cause[1:]}\n"
        "  Hint:     fix the URL or the credentials first: a refusal proves nothing until a valid delivery gets a 2xx"
    )


def render_failures(outcomes: Iterable[CheckOutcome], seed: int | None = None) -> str:
    """The blocked cause on top, then failures and warnings: expected vs received, payload, hint, repro, seed."""
    outcomes = list(outcomes)
    blocks = [render_blocked(outcomes)] if any(o.status == "blocked" for o in outcomes) else []
    order = {"failed": 0, "warned": 1}
    for outcome in sorted(outcomes, key=lambda o: order.get(o.status, 2)):
        if outcome.status == "blocked":
            continue
        shown = outcome.violations[:1] if outcome.status == "warned" else outcome.violations
        for v in shown:
            marker = " (warning)" if outcome.status == "warned" else ""
            lines = [f"__ {v.check}{marker} __", f"{v.title}", f"  Expected: {v.expected}", f"  Received: {v.received}"]
            if v.hint:
                lines.append(f"  Hint:     {v.hint}")
            if v.payload:
                excerpt = v.payload if len(v.payload) <= 300 else v.payload[:300] + "…"
                label = "Minimal failing payload (shrunk)" if v.check == "no-server-error" else "Payload"
                lines.append(f"  {label}: {excerpt.strip()}")
            if v.repro:
                lines += ["  Reproduce:", f"    {v.repro}"]
            if seed is not None:
                lines.append(f"  Seed:     {seed} (replay with --seed {seed})")
            more = [o.title for o in outcome.violations[1:]] if outcome.status == "warned" else []
            if more:
                lines.append(f"  Also ({len(more)}): " + "; ".join(more))
            blocks.append("\n".join(lines))
        for note in outcome.notes if outcome.status != "skipped" else []:
            blocks.append(f"note [{outcome.check}]: {note}")
    return "\n\n".join(blocks)


def render_summary(result: RunResult) -> str:
    """The closing line."""
    counts = {status: sum(o.status == status for o in result.outcomes) for status in STATUSES}
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    requests = sum(o.requests for o in result.outcomes)
    extra = f", slowest settle {result.slowest_settle:.2f}s" if result.slowest_settle else ""
    stopped = "; stopped at the first failure (--fail-fast)" if result.stopped_early else ""
    return f"{', '.join(parts)} in {result.duration:.2f}s ({requests} requests, seed {result.seed}{extra}){stopped}"


def to_json(result: RunResult) -> dict[str, Any]:
    """The JSON report (redacted)."""
    from harness import __version__

    redact = result.redactor
    return {
        "tool": {"name": "webhook-harness", "version": __version__, "python": platform.python_version()},
        "provider": result.provider,
        "url": redact(redact_url(result.url)),
        "seed": result.seed,
        "exit_code": result.exit_code,
        "duration": round(result.duration, 3),
        "summary": {s: sum(o.status == s for o in result.outcomes) for s in STATUSES},
        "blocked_cause": redact(result.blocked_cause) if result.blocked_cause else None,
        "stopped_early": result.stopped_early,
        "slowest_settle": round(result.slowest_settle, 3),
        "checks": [
            {
                "id": o.check,
                "category": categories().get(o.check, "other"),
                "title": o.title,
                "status": o.status,
                "severity": o.severity,
                "message": redact(
                    "; ".join(v.title for v in o.violations) if o.violations else "; ".join(o.notes) or o.title
                ),
                "repro": redact(o.violations[0].repro) if o.violations else None,
                "duration": round(o.duration, 3),
                "requests": o.requests,
                "notes": [redact(n) for n in o.notes],
                "violations": [
                    {
                        "title": redact(v.title),
                        "expected": v.expected,
                        "received": redact(v.received),
                        "hint": redact(v.hint),
                        "repro": redact(v.repro),
                        "payload_excerpt": redact(v.payload),
                    }
                    for v in o.violations
                ],
            }
            for o in result.outcomes
        ],
    }


def ensure_writable(path: str | Path) -> None:
    """Fail before the run, not after it, when the report cannot be written."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot write the report to {target}: {exc.strerror or exc}.") from None
    if target.is_dir() or not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"Cannot write the report to {target}: not a writable file path.")


def write_json(result: RunResult, path: str | Path) -> None:
    """Write the JSON report, creating its folder; a path we cannot write is the user's error."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the report to {target}: {exc.strerror or exc}.") from None


Printer = Callable[[str], None]


def printer(stream: IO[str]) -> Printer:
    """print() to a stream, flushed."""
    return lambda text: print(text, file=stream, flush=True)
