"""pact-python registers its own pytest plugin (pytest11 ``pact``); ours and its run side by side."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_consumer_pact_test_runs_under_both_plugins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_both="""
        import pytest
        from harness import Credentials, load_catalog, sign, verify
        from harness.pact import build_pact

        @pytest.mark.webhook("stripe")  # our marker: --strict-markers fails the run if our plugin is not loaded
        def test_consumer(request, pact_test_run_id):  # pact-python's fixture
            manager = request.config.pluginmanager
            assert manager.has_plugin("pact") and manager.has_plugin("webhook_harness")
            assert pact_test_run_id == request.node.nodeid
            creds = Credentials(secret="whsec_both_plugins")
            seen = []

            def handler(body, metadata):
                raw = str(body).encode()
                assert verify("stripe", raw, sign("stripe", raw, creds), creds)
                seen.append(metadata["contentType"])

            build_pact(load_catalog().get("stripe"), "shop", ["invoice.paid"]).verify(handler, "Async")
            assert seen == ["application/json; charset=utf-8"]
        """
    )
    result = pytester.runpytest_inprocess("-q", "--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_project_configuration_disables_neither_plugin() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "no:pact" not in options and "no:webhook_harness" not in options
