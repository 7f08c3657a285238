"""The runs these tests start (pytester, in-process or not, and their xdist workers) load only the plugins they test."""

from __future__ import annotations

import pytest

# locust, schemathesis, faker and pact register pytest plugins that cost seconds to import in every fresh interpreter
# (a pytester subprocess, each xdist worker); none of them takes part in the webhook-harness plugin's runs.
LEAN = "-p no:locust -p no:schemathesis -p no:faker -p no:pact -p no:cacheprovider"


@pytest.fixture(autouse=True)
def _lean_pytest_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", LEAN)
