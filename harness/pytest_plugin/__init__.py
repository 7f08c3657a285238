"""The webhook-harness pytest plugin: the contract suite as test items, and the ``webhook`` fixture.

Installed with the package (``pytest11``), it is loaded by every pytest run, so it stays silent and cheap unless
``--webhook-url`` (or the ini option ``webhook_url``) is given: the engine is imported only then.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin._items import WebhookContractWarning
from harness.pytest_plugin._options import Settings, add_options, settings_from
from harness.pytest_plugin._replay import replay_params
from harness.pytest_plugin._scenarios import scenario_params

if TYPE_CHECKING:
    from harness.pytest_plugin._fixture import Webhook

__all__ = ["Settings", "WebhookContractWarning", "replay_params", "scenario_params", "webhook"]

_SETTINGS = pytest.StashKey[Settings | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--webhook-*`` options."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings once; without a receiver URL the plugin adds nothing."""
    config.addinivalue_line("markers", "webhook_contract: a webhook-harness contract check (added by the plugin)")
    config.addinivalue_line("markers", "webhook(provider, url=None): configure the webhook fixture for this test")
    config.stash[_SETTINGS] = settings_from(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the contract suite before -k / -m deselection runs."""
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        return
    from harness.pytest_plugin._items import SUITE_NODEID, ContractSuite, plan_suite

    plan_suite(config, settings)  # bad inputs stop the run here, as one line
    suite = ContractSuite.from_parent(session, name=SUITE_NODEID, nodeid=SUITE_NODEID, settings=settings)
    report = suite.ihook.pytest_make_collect_report(collector=suite)
    session.ihook.pytest_collectreport(report=report)
    if report.failed:
        raise pytest.UsageError(str(report.longrepr))
    items.extend(node for node in report.result if isinstance(node, pytest.Item))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Say what the contract suite runs against (never the secrets)."""
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        return None
    from harness.credentials import redact_url

    url = redact_url(settings.url)
    return [f"webhook-harness: {settings.provider} at {url} (hypothesis seed {settings.resolved_seed()})"]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the engine session, if the contract suite opened one."""
    if config.stash.get(_SETTINGS, None) is not None:
        from harness.pytest_plugin._items import close_session

        close_session(config)


@pytest.fixture
def webhook(request: pytest.FixtureRequest) -> Iterator[Webhook]:
    """Send signed deliveries and run named checks from inside a test."""
    from harness.pytest_plugin._fixture import Webhook

    client = Webhook.from_request(request, request.config.stash.get(_SETTINGS, None))
    try:
        yield client
    finally:
        client.close()
