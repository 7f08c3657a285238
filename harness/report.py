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

from harness.checks import INPUT_CLASSES, categories
from harness.core.files import write_file
from harness.credentials import redact_url
from harness.errors import ConfigError
from harness.repro import curl_command

if TYPE_CHECKING:
    from harness.checks import CheckOutcome
    from harness.engine.runner import RunResult
    from harness.settings.resolve import RunConfig
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
    "library_warnings",
    "render_library_warnings",
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
    """One line per check, like Schemathesis: id, verdict, time, input class (and why it was skipped or blocked)."""
    verdict = outcome.status.upper()
    extra = f"  ({outcome.notes[0]})" if outcome.status in ("skipped", "blocked") and outcome.notes else ""
    if outcome.same_cause_as:
        extra = f"  (same cause as {outcome.same_cause_as})"
    line = f"{outcome.check:<26} {verdict:<8} {outcome.duration:6.2f}s  {outcome.requests:>3} requests"
    return f"{line}  {outcome.input_class:<18}{extra}".rstrip()


_DEVELOPER_ONLY = ("DeprecationWarning", "PendingDeprecationWarning", "HypothesisDeprecationWarning")


def library_warnings(outcomes: Iterable[CheckOutcome]) -> list[str]:
    """What libraries warned during the run, each once; deprecations concern our dependencies, not the receiver."""
    seen = dict.fromkeys(w for o in outcomes for w in o.library_warnings)
    return [w for w in seen if not w.startswith(_DEVELOPER_ONLY)]


def render_library_warnings(outcomes: Iterable[CheckOutcome]) -> str:
    """The library warnings of the run, once, below the results table (never inside it)."""
    shown = library_warnings(outcomes)
    if not shown:
        return ""
    return "__ library warnings __\n" + "\n".join(f"  {w}" for w in shown)


def by_class(outcomes: Iterable[CheckOutcome]) -> dict[str, dict[str, int]]:
    """Status counts per input class, in the model's order; a class with no check is left out."""
    out: dict[str, dict[str, int]] = {}
    outcomes = list(outcomes)
    for name in INPUT_CLASSES:
        mine = [o for o in outcomes if o.input_class == name]
        if mine:
            out[name] = {s: n for s in STATUSES if (n := sum(o.status == s for o in mine))}
    return out


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
    if outcome.same_cause_as:
        return "\n".join(f"note [{outcome.check}]: {note}" for note in outcome.notes)
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
    blocks.append(render_library_warnings(outcomes))
    return "\n\n".join(b for b in blocks if b)


def _option_words(option: str, value: Any) -> list[str]:
    """One setting as command-line words: a flag alone, a list as one option per item, a value after its option."""
    from harness.core.settings_table import env_text

    if value is True:
        return [option]
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):  # headers
        return [w for name, text in value for w in (option, f"{name}: {text}")]
    if isinstance(value, tuple):
        return [w for item in value for w in (option, str(item))]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [option, redact_url(env_text(value)) if isinstance(value, str) else env_text(value)]


def replay_command(config: RunConfig, *, check_id: str | None = None, front_end: str = "cli") -> str:
    """A command that runs the same checks again: the seed, the config file, and every setting given as an option or
    environment variable at other than its default; secrets (and secret-looking headers) stay where they were."""
    from harness.core.settings_table import by_name
    from harness.credentials import looks_secret

    seed = config.resolved_seed()
    url = redact_url(config.url)
    pytest = front_end == "pytest"
    if pytest:
        words = ["pytest", "--webhook-url", url, "--webhook-provider", config.provider, f"--hypothesis-seed={seed}"]
        if check_id:
            words += ["-k", f"{config.provider}-{check_id}"]
    else:
        words = ["webhook-harness", "check", config.provider, url, "--seed", str(seed)]
        if check_id:
            words += ["--check", check_id]
    if config.config_path:
        words += ["--webhook-config" if pytest else "--config", config.config_path]
    skip = {"provider", "url", "seed", "config", "junitxml", "quiet"} | ({"checks"} if check_id else set())
    for name, value in config.non_default().items():
        setting = by_name(name)
        if name in skip or (pytest and not setting.pytest):
            continue
        if name == "headers":
            value = tuple((n, v) for n, v in value if not looks_secret(n))
        words += _option_words(setting.pytest_option if pytest else setting.option, value)
    return shlex.join(words)


def render_summary(result: RunResult) -> str:
    """The closing line."""
    counts = {status: sum(o.status == status for o in result.outcomes) for status in STATUSES}
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    requests = sum(o.requests for o in result.outcomes)
    extra = f", slowest settle {result.slowest_settle:.2f}s" if result.slowest_settle else ""
    stopped = "; stopped at the first failure (--fail-fast)" if result.stopped_early else ""
    line = f"{', '.join(parts)} in {result.duration:.2f}s ({requests} requests, seed {result.seed}{extra}){stopped}"
    classes = [
        f"{name}: " + ", ".join(f"{n} {s}" for s, n in counts.items())
        for name, counts in by_class(result.outcomes).items()
    ]
    return "\n".join([line, *(f"  {c}" for c in classes)])


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
        "summary_by_class": by_class(result.outcomes),
        "library_warnings": [redact(w) for w in library_warnings(result.outcomes)],
        "interrupted": result.interrupted,
        "blocked_cause": redact(result.blocked_cause) if result.blocked_cause else None,
        "stopped_early": result.stopped_early,
        "slowest_settle": round(result.slowest_settle, 3),
        "checks": [
            {
                "id": o.check,
                "category": categories().get(o.check, "other"),
                "class": o.input_class,
                "same_cause_as": o.same_cause_as,
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
                        "class": v.input_class or o.input_class,
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
        props = ET.SubElement(case, "properties")
        facts = [("class", outcome.input_class), ("severity", outcome.severity), ("status", outcome.status)]
        if outcome.status == "warned":
            facts.append(("warning", outcome.violations[0].title if outcome.violations else outcome.title))
        for name, value in facts:
            ET.SubElement(props, "property", name=name, value=redact(value))
        if outcome.status in ("failed", "blocked"):
            title = outcome.violations[0].title if outcome.violations else "; ".join(outcome.notes) or outcome.title
            failure = ET.SubElement(case, "failure", message=redact(title))
            failure.text = redact(render_check_failure(outcome, result.seed, replay))
        elif outcome.status == "skipped":
            ET.SubElement(case, "skipped", message=redact("; ".join(outcome.notes) or "not applicable"))
        elif outcome.status == "warned":  # a passing testcase that dashboards show with its output (the convention)
            out = ET.SubElement(case, "system-out")
            out.text = redact("WARNING: " + render_check_failure(outcome, result.seed, replay))
    shown = library_warnings(result.outcomes)
    if shown:
        ET.SubElement(suite, "system-err").text = redact("\n".join(shown))
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_text(text: str, path: str | Path, what: str = "report") -> Path:
    """Write a report file, creating its folder; a path we cannot write is the user's error."""
    return write_file(path, text, ConfigError, what=what)
