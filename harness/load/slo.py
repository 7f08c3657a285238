"""Service-level gates for CI: p99 latency, error rate, achieved rate; a run passes only if every gate holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.core.durations import parse_duration
from harness.errors import UsageError

__all__ = ["DEFAULT_GATES", "Gate", "GateResult", "evaluate", "parse_gates", "parse_percent"]


@dataclass(frozen=True)
class Gate:
    """One limit: ``max-p99`` (ms), ``max-error-rate`` (%) or ``min-rate-achieved`` (%)."""

    name: str
    limit: float


@dataclass(frozen=True)
class GateResult:
    """A gate with what the run observed, and whether it held."""

    name: str
    limit: float
    observed: float
    passed: bool

    def to_json(self) -> dict[str, Any]:
        """``{name, limit, observed, passed}``."""
        return {"name": self.name, "limit": self.limit, "observed": round(self.observed, 3), "passed": self.passed}

    def describe(self) -> str:
        """One line, e.g. ``max-p99 250ms: observed 12.3ms ok``."""
        unit = "ms" if self.name == "max-p99" else "%"
        verdict = "ok" if self.passed else "VIOLATED"
        return f"{self.name} {self.limit:g}{unit}: observed {self.observed:.3g}{unit} {verdict}"


def parse_percent(text: str, option: str) -> float:
    """``5%`` or ``5`` as 5.0 (0..100), or a one-line usage error naming the option."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{option} must be a percentage such as 1% or 99.5, got {text!r}.") from None
    if not 0.0 <= value <= 100.0:
        raise UsageError(f"{option} must be a percentage between 0 and 100, got {text!r}.")
    return value


@dataclass(frozen=True)
class _Defaults:
    error_rate: float = 1.0
    rate_achieved: float = 95.0


DEFAULT_GATES = _Defaults()
"""The gates every open-model run has unless ``--no-gates``: at most 1% failed requests, at least 95% of the rate."""


def parse_gates(
    max_p99: str | None,
    max_error_rate: str | None,
    min_rate_achieved: str | None,
    *,
    defaults: bool = False,
) -> list[Gate]:
    """The gates the options ask for (p99 as a duration such as 250ms); with ``defaults``, the error-rate and
    achieved-rate gates the options leave out are added at their default limits."""
    if defaults:
        max_error_rate = max_error_rate if max_error_rate is not None else f"{DEFAULT_GATES.error_rate:g}"
        if min_rate_achieved is None:
            min_rate_achieved = f"{DEFAULT_GATES.rate_achieved:g}"
    gates: list[Gate] = []
    if max_p99 is not None:
        gates.append(Gate("max-p99", parse_duration(max_p99, what="--max-p99") * 1000.0))
    if max_error_rate is not None:
        gates.append(Gate("max-error-rate", parse_percent(max_error_rate, "--max-error-rate")))
    if min_rate_achieved is not None:
        gates.append(Gate("min-rate-achieved", parse_percent(min_rate_achieved, "--min-rate-achieved")))
    return gates


def evaluate(gates: list[Gate], *, p99_ms: float, error_rate_pct: float, achieved_pct: float) -> list[GateResult]:
    """Each gate against the run's numbers."""
    out = []
    for gate in gates:
        if gate.name == "max-p99":
            out.append(GateResult(gate.name, gate.limit, p99_ms, p99_ms <= gate.limit))
        elif gate.name == "max-error-rate":
            out.append(GateResult(gate.name, gate.limit, error_rate_pct, error_rate_pct <= gate.limit))
        else:
            out.append(GateResult(gate.name, gate.limit, achieved_pct, achieved_pct >= gate.limit))
    return out
