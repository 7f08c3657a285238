"""Findings about the receiver under test: each says what was expected and what was received."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ContractViolation", "ViolationGroup"]


@dataclass(eq=False)
class ContractViolation(AssertionError):
    """The receiver broke a provider contract; exit code 1."""

    check: str
    title: str
    expected: str
    received: str
    hint: str = ""
    repro: str = ""
    payload: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.title)

    def __str__(self) -> str:
        lines = [f"[{self.check}] {self.title}", f"Expected: {self.expected}", f"Received: {self.received}"]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)


class ViolationGroup(ExceptionGroup[ContractViolation]):
    """Several violations found in one run."""
