"""The contract suite as pytest items: one ``test_contract[<provider>-<check id>]`` per check."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_plugin._options import Settings

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from harness.runner import RunConfig

__all__ = ["ContractFailed", "ContractItem", "ContractSuite", "run_config"]

SUITE_NODEID = "webhook-contract"


class ContractFailed(Exception):
    """A check found violations; the message is the rendered, redacted report."""


def run_config(settings: Settings) -> RunConfig:
    """The engine's run configuration for these settings (the same one ``webhook-harness check`` builds)."""
    from harness.catalog import load_catalog
    from harness.probes import make_probe
    from harness.runner import RunConfig

    return RunConfig(
        provider=settings.provider,
        url=settings.url,
        credentials=settings.credentials,
        catalog=load_catalog(settings.schemas),
        probe=make_probe(settings.probe_url, settings.probe_db, settings.probe_sql),
        seed=settings.seed,
        max_examples=settings.max_examples,
        timeout=settings.timeout,
        checks=settings.checks,
        exclude_checks=settings.exclude_checks,
        callback_host=settings.callback_host,
    )


class ContractSuite(pytest.Collector):
    """A virtual module holding the contract items, so the suite collects in any folder, even an empty one."""

    def __init__(self, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def collect(self) -> Iterator[ContractItem]:
        """One item per planned check, in the engine's stable order."""
        from harness.errors import HarnessError
        from harness.runner import plan

        try:
            config = run_config(self.settings)
            check_ids = plan(config)
        except HarnessError as exc:
            raise pytest.UsageError(f"webhook-harness: {exc}") from None
        for check_id in check_ids:
            yield ContractItem.from_parent(
                self, name=f"test_contract[{self.settings.provider}-{check_id}]", check_id=check_id
            )


class ContractItem(pytest.Item):
    """One contract check against the receiver."""

    def __init__(self, *, check_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_id = check_id
        self.parent_suite: ContractSuite = self.parent  # type: ignore[assignment]
        self.add_marker(pytest.mark.webhook_contract)

    def runtest(self) -> None:
        """Run the check through the engine; skip, pass, or fail with the rendered violations."""
        from harness.credentials import Redactor
        from harness.errors import HarnessError
        from harness.runner import run_check

        settings = self.parent_suite.settings
        redact = Redactor(settings.credentials.secrets())
        try:
            outcome = run_check(run_config(settings), self.check_id)
        except HarnessError as exc:
            raise ContractFailed(redact(f"webhook-harness: {exc}")) from None
        if outcome.status == "skipped":
            pytest.skip(redact("; ".join(outcome.notes) or "not applicable"))
        if outcome.status == "failed":
            raise ContractFailed(redact(render_failure(self, outcome)))

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        """The report text without a Python traceback."""
        if isinstance(excinfo.value, ContractFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int | None, str]:
        """Where the item comes from, for pytest's headers."""
        return "webhook-contract", None, self.name


def render_failure(item: ContractItem, outcome: Any) -> str:
    """Expected vs received, the curl repro and how to replay the run."""
    lines: list[str] = []
    for violation in outcome.violations:
        lines.append(f"[{violation.check}] {violation.title}")
        lines.append(f"  Expected: {violation.expected}")
        lines.append(f"  Received: {violation.received}")
        if violation.hint:
            lines.append(f"  Hint: {violation.hint}")
        if violation.repro:
            lines.append("  Reproduce with:")
            lines.extend("    " + line for line in violation.repro.splitlines())
        lines.append("")
    lines.extend(f"Note: {note}" for note in outcome.notes)
    lines.append(f"Hypothesis seed: {item.parent_suite.settings.seed}")
    lines.append("Replay: " + replay_command(item))
    return "\n".join(lines)


def replay_command(item: ContractItem) -> str:
    """A command line that runs this item again with the same seed (secrets stay in their env vars)."""
    settings = item.parent_suite.settings
    words = [
        "pytest",
        "--webhook-url",
        settings.url,
        "--webhook-provider",
        settings.provider,
        f"--hypothesis-seed={settings.seed}",
        "-k",
        f"{settings.provider}-{item.check_id}",
    ]
    if settings.probe_url:
        words += ["--webhook-probe-url", settings.probe_url]
    return shlex.join(words)
