"""``pact verify``'s verdicts for the terminal, the JSON report and JUnit XML."""

from __future__ import annotations

import platform
from typing import Any

from harness.pact._verify import VerifyResult

__all__ = ["render_result", "to_json", "to_junit"]

_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def _name(r: Any) -> str:
    return f"{r.consumer} -> {r.provider}: {r.description}"


def render_result(result: VerifyResult) -> str:
    """One line per interaction, its findings under it, and a summary line."""
    lines = []
    for r in result.results:
        detail = f" ({r.examples} examples)" if r.status == "passed" else f" ({r.note})" if r.note else ""
        pending = " (pending: does not fail the run)" if r.pending and r.status == "failed" else ""
        lines.append(f"{_MARK[r.status]} {_name(r)}{detail}{pending}")
        lines.extend(f"  - {f.render()}" for f in r.findings)
    counts = {s: sum(r.status == s for r in result.results) for s in _MARK}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append(f"{summary} in {result.duration:.2f}s (seed {result.seed})")
    return "\n".join(lines)


def to_json(result: VerifyResult) -> dict[str, Any]:
    """The JSON report."""
    from harness import __version__

    return {
        "tool": {"name": "webhook-harness", "version": __version__, "python": platform.python_version()},
        "command": "pact verify",
        "seed": result.seed,
        "exit_code": result.exit_code,
        "duration": round(result.duration, 3),
        "summary": {s: sum(r.status == s for r in result.results) for s in _MARK},
        "interactions": [
            {
                "pact": r.pact,
                "consumer": r.consumer,
                "provider": r.provider,
                "interaction": r.description,
                "event_type": r.event_type,
                "status": r.status,
                "pending": r.pending,
                "examples": r.examples,
                "note": r.note or None,
                "findings": [{"field": f.field, "reason": f.reason, "examples": f.examples} for f in r.findings],
            }
            for r in result.results
        ],
    }


def to_junit(result: VerifyResult) -> str:
    """JUnit XML: one test case per interaction, its findings as the failure text."""
    import xml.etree.ElementTree as ET

    counts = {s: sum(r.status == s for r in result.results) for s in _MARK}
    suite = ET.Element(
        "testsuite",
        name="pact-verify",
        tests=str(len(result.results)),
        failures=str(sum(r.status == "failed" and not r.pending for r in result.results)),
        errors="0",
        skipped=str(counts["skipped"] + sum(r.status == "failed" and r.pending for r in result.results)),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="seed", value=str(result.seed))
    for r in result.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"pact-verify.{r.consumer}.{r.provider}", name=r.description, time="0.000"
        )
        if r.status == "failed" and r.pending:
            ET.SubElement(case, "skipped", message="pending: " + "; ".join(f.render() for f in r.findings))
        elif r.status == "failed":
            failure = ET.SubElement(case, "failure", message=r.findings[0].render() if r.findings else "failed")
            failure.text = "\n".join(f.render() for f in r.findings)
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", message=r.note or "not verifiable")
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
