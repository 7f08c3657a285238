"""What a run says: terminal lines in the Schemathesis style, a JSON report, and curl commands that replay."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks import categories
from harness.core.files import write_file
from harness.credentials import redact_url
from harness.errors import ConfigError
from harness.repro import curl_command

if TYPE_CHECKING:
    from harness.checks import CheckOutcome
    from harness.runner import RunResult
    from harness.settings import RunConfig
    from harness.violations import ContractViolation

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "curl_command",
    "ensure_writable",
    "redact_url",
    "render_blocked",
    "render_check_failure",
    "render_failures",
    "render_outcome",
    "render_summary",
    "render_violation",
    "replay_command",
    "to_junit",
    "write_json",
    "write_text",
]

CATEGORIES: dict[str, str] = categories()  # from each check's registration
STATUSES = ("passed", "failed", "warned", "skipped", "blocked")


def render_outcome(outcome: CheckOutcome) -> str:
    """One line per check, like Schemathesis: id, verdict, time (and why it was skipped or blocked)."""
    verdict = outcome.status.upper()
    extra = f"  ({outcome.notes[0]})" if outcome.status in ("skipped", "blocked") and outcome.notes else ""
    return f"{outcome.check:<26} {verdict:<8} {outcome.duration:6.2f}s  {outcome.requests:>3} requests{extra}"


def render_violation(v: ContractViolation) -> str:
    """One finding, the same text everywhere: terminal, pytest, JUnit and the JSON report's ``text``."""
    return v.render()


def _answer(received: str) -> str:
    """What a reply was, without its timing and body: ``HTTP 401``, ``no response (timed out)``."""
    match = re.match(r"(HTTP \d{3}|no response \([^)]*\))", received)
    return match.group(1) if match else received


def _by_cause(violations: list[ContractViolation]) -> list[list[ContractViolation]]:
    """Findings of one check grouped by what was expected and what came back, in first-seen order."""
    groups: dict[tuple[str, str], list[ContractViolation]] = {}
    for v in violations:
        groups.setdefault((v.expected, _answer(v.received)), []).append(v)
    return list(groups.values())


def _render_group(group: list[ContractViolation]) -> str:
    """The first finding of a group in full; the rest named in one line, so 11 identical 401s are one block."""
    text = render_violation(group[0])
    if len(group) > 1:
        answer = _answer(group[0].received)
        text += f"\n  Same answer ({answer}) for {len(group) - 1} more: " + "; ".join(v.title for v in group[1:6])
        text += " …" if len(group) > 6 else ""
        if answer in ("HTTP 401", "HTTP 403"):
            text += f"\n  Cause:    every such delivery was refused with {answer}: check the secret, key or token"
    return text


def render_check_failure(outcome: CheckOutcome, seed: int | None = None, replay: str | None = None) -> str:
    """Every finding of one failed check (a warned check: its first, the rest named), its notes, how to rerun it."""
    if outcome.status == "warned":
        blocks = [render_violation(v).replace(" __\n", " (warning) __\n", 1) for v in outcome.violations[:1]]
        more = [v.title for v in outcome.violations[1:]]
        if more:
            blocks[0] += f"\n  Also ({len(more)}): " + "; ".join(more)
    else:
        blocks = [_render_group(group) for group in _by_cause(outcome.violations)]
    blocks += [f"note [{outcome.check}]: {note}" for note in outcome.notes if outcome.status != "skipped"]
    tail = []
    if seed is not None:
        tail.append(f"  Seed:     {seed}" + ("" if replay else f" (replay with --seed {seed})"))
    if replay:
        tail.append(f"  Replay:   {replay}")
    return "\n\n".join(blocks) + ("\n" + "\n".join(tail) if tail else "")


def render_blocked(outcomes: Iterable[CheckOutcome]) -> str:
    """One block per cause that kept checks from a verdict (a valid delivery refused, the budget spent, Ctrl-C)."""
    by_cause: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.status == "blocked":
            by_cause.setdefault(outcome.notes[0] if outcome.notes else "not run", []).append(outcome.check)
    blocks = []
    for cause, names in by_cause.items():
        lines = [f"__ blocked __\nThese checks reached no verdict: {', '.join(names)}", f"  Cause:    {cause}"]
        if "valid delivery" in cause:
            lines.append(
                "  Hint:     fix the URL or the credentials first: a refusal proves nothing until a valid delivery "
                "gets a 2xx"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_failures(outcomes: Iterable[CheckOutcome], seed: int | None = None) -> str:
    """The blocked causes on top, then failures, then warnings, each by ``render_check_failure``."""
    outcomes = list(outcomes)
    blocks = [render_blocked(outcomes)] if any(o.status == "blocked" for o in outcomes) else []
    order = {"failed": 0, "warned": 1}
    shown = sorted((o for o in outcomes if o.status in order), key=lambda o: order[o.status])
    blocks += [render_check_failure(o, seed) for o in shown]
    return "\n\n".join(b for b in blocks if b)


def replay_command(config: RunConfig, *, check_id: str | None = None, front_end: str = "cli") -> str:
    """A command that runs the same checks again with the same seed; secrets stay in their env vars or config."""
    seed = config.resolved_seed()
    url = redact_url(config.url)
    if front_end == "pytest":
        words = ["pytest", "--webhook-url", url, "--webhook-provider", config.provider, f"--hypothesis-seed={seed}"]
        if check_id:
            words += ["-k", f"{config.provider}-{check_id}"]
        prefix = "--webhook-"
    else:
        words = ["webhook-harness", "check", config.provider, url, "--seed", str(seed)]
        if check_id:
            words += ["--check", check_id]
        prefix = "--"
    if config.schemas_dir:
        words += [f"{prefix}schemas", str(config.schemas_dir)]
    if config.config_path and front_end == "cli":
        words += ["--config", config.config_path]
    probe_url = getattr(config.probe, "template", None)
    if isinstance(probe_url, str):
        words += [f"{prefix}probe-url", redact_url(probe_url)]
    return shlex.join(words)


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
        "interrupted": result.interrupted,
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
                "text": redact(render_check_failure(o)) if o.violations else None,
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
    write_text(json.dumps(to_json(result), indent=2) + "\n", path)


def to_junit(result: RunResult, replay: str | None = None) -> str:
    """JUnit XML with the pytest plugin's names and failure text, so a CI gate needs no pytest."""
    import xml.etree.ElementTree as ET

    redact = result.redactor
    counts = {s: sum(o.status == s for o in result.outcomes) for s in ("failed", "blocked", "skipped")}
    suite = ET.Element(
        "testsuite",
        name="webhook-contract",
        tests=str(len(result.outcomes)),
        failures=str(counts["failed"] + counts["blocked"]),
        errors="0",
        skipped=str(counts["skipped"]),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("provider", result.provider), ("url", redact(redact_url(result.url))), ("seed", result.seed)):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for outcome in result.outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="webhook-contract",
            name=f"test_contract[{result.provider}-{outcome.check}]",
            time=f"{outcome.duration:.3f}",
        )
        if outcome.status in ("failed", "blocked"):
            title = outcome.violations[0].title if outcome.violations else "; ".join(outcome.notes) or outcome.title
            failure = ET.SubElement(case, "failure", message=redact(title))
            failure.text = redact(render_check_failure(outcome, result.seed, replay))
        elif outcome.status == "skipped":
            ET.SubElement(case, "skipped", message=redact("; ".join(outcome.notes) or "not applicable"))
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_text(text: str, path: str | Path, what: str = "report") -> Path:
    """Write a report file, creating its folder; a path we cannot write is the user's error."""
    return write_file(path, text, ConfigError, what=what)
