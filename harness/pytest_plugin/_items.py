"""The contract suite as pytest items: one ``test_contract[<provider>-<check id>]`` per check, one session for all."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.settings.resolve import RunConfig

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from harness.checks import CheckContext, CheckOutcome
    from harness.engine.session import Session

__all__ = [
    "SESSION_KEY",
    "ContractFailed",
    "WebhookContractWarning",
    "ContractItem",
    "ContractSuite",
    "close_session",
    "plan_suite",
]

SUITE_NODEID = "webhook-contract"


class _SessionState:
    """The pytest session's one engine session, and the error that stopped it from opening (reported by every item)."""

    def __init__(self, settings: RunConfig) -> None:
        from harness.engine.session import Session

        self.settings = settings
        self.session: Session = Session(settings)
        self.error: str | None = None

    def context(self) -> CheckContext:
        """The shared check context; a failed preflight is remembered, never retried per item."""
        from harness.errors import HarnessError

        if self.error is not None:
            raise ContractFailed(self.error)
        try:
            return self.session.context()
        except HarnessError as exc:
            self.error = self.session.redactor(f"webhook-harness: {exc}")
            raise ContractFailed(self.error) from None


SESSION_KEY = pytest.StashKey[_SessionState]()


def close_session(config: pytest.Config) -> None:
    """Release the engine session at the end of the pytest session."""
    state = config.stash.get(SESSION_KEY, None)
    if state is not None:
        state.session.close()


class ContractFailed(Exception):
    """A check found violations; the message is the rendered, redacted report."""


class WebhookContractWarning(UserWarning):
    """A warn-severity check found something: the item passes (``-W error::...`` or ``--webhook-strict`` fails it)."""


class ContractSuite(pytest.Collector):
    """A virtual module holding the contract items, so the suite collects in any folder, even an empty one."""

    def __init__(self, *, settings: RunConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def collect(self) -> Iterator[ContractItem]:
        """One item per planned check, in the engine's stable order."""
        for check_id in plan_suite(self.config, self.settings):
            yield ContractItem.from_parent(
                self, name=f"test_contract[{self.settings.provider}-{check_id}]", check_id=check_id
            )


def plan_suite(config: pytest.Config, settings: RunConfig) -> list[str]:
    """The session's planned check ids; opens the one engine session; a bad input is a one-line usage error."""
    from harness.errors import HarnessError

    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        state = config.stash[SESSION_KEY] = _SessionState(settings)
    try:
        return state.session.plan()
    except HarnessError as exc:
        raise pytest.UsageError(f"webhook-harness: {exc}") from None


class ContractItem(pytest.Item):
    """One contract check against the receiver."""

    def __init__(self, *, check_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_id = check_id
        self.parent_suite: ContractSuite = self.parent  # type: ignore[assignment]
        self.add_marker(pytest.mark.webhook_contract)

    def runtest(self) -> None:
        """Run the check through the session's engine; skip, pass, or fail with the rendered violations."""
        from harness.engine.runner import run_check
        from harness.report import library_warnings

        state = self.config.stash[SESSION_KEY]
        context = state.context()
        outcome = run_check(state.settings, self.check_id, context=context)
        redact = state.session.redactor
        self.user_properties.append(("class", outcome.input_class))  # pytest --junitxml writes these as properties
        for text in library_warnings([outcome]):  # kept out of the check; pytest's warnings summary shows each once
            warnings.warn(UserWarning(redact(f"while checking {self.check_id}: {text}")), stacklevel=1)
        if outcome.status == "skipped":
            pytest.skip(redact("; ".join(outcome.notes) or "not applicable"))
        if outcome.status == "blocked":
            raise ContractFailed(redact("blocked: " + ("; ".join(outcome.notes) or "the check could not run")))
        if outcome.status == "failed":
            raise ContractFailed(redact(render_failure(self, outcome)))
        if outcome.status == "warned":
            self.user_properties.append(("warning", redact(outcome.violations[0].title if outcome.violations else "")))
            warnings.warn(WebhookContractWarning(redact(render_failure(self, outcome))), stacklevel=1)

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        """The report text without a Python traceback."""
        if isinstance(excinfo.value, ContractFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int | None, str]:
        """Where the item comes from, for pytest's headers."""
        return "webhook-contract", None, self.name


def render_failure(item: ContractItem, outcome: CheckOutcome) -> str:
    """The same failure text as the CLI's, with a pytest replay command."""
    from harness.report import render_check_failure, replay_command

    settings = item.parent_suite.settings
    replay = replay_command(settings, check_id=item.check_id, front_end="pytest")
    return render_check_failure(outcome, settings.resolved_seed(), replay)
