"""Findings about the receiver under test: each says what was expected and what was received."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.core.text import printable

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
    input_class: str = ""  # who could have sent the request: provider-sends, anyone-can-send, secret-holder-only
    shrunk: bool = False  # the payload is Hypothesis' minimised failing example

    def __post_init__(self) -> None:
        self.received = printable(self.received)  # what a peer sent: terminal escapes shown, not obeyed
        super().__init__(self.title)

    def render(self) -> str:
        """The one rendering of a finding (terminal, pytest, JUnit and JSON all use it)."""
        lines = [f"__ {self.check} __", self.title, f"  Expected: {self.expected}", f"  Received: {self.received}"]
        if self.input_class:
            lines.append(f"  Class:    {self.input_class}")
        if self.hint:
            lines.append(f"  Hint:     {self.hint}")
        if self.payload:
            shown = self.payload if len(self.payload) <= 300 else self.payload[:300] + "…"
            label = "Minimal failing payload (shrunk)" if self.shrunk else "Payload"
            lines.append(f"  {label}: {shown.strip()}")
        if self.repro:
            lines += ["  Reproduce:", *(f"    {line}" for line in self.repro.splitlines())]
        return printable("\n".join(lines))

    def __str__(self) -> str:
        return self.render()


class ViolationGroup(ExceptionGroup[ContractViolation]):
    """Several violations found in one run."""
