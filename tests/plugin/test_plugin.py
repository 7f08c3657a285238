"""The pytest plugin end to end (pytester): silent when unused, the contract suite against the reference receiver."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from harness.catalog import load_catalog
from harness.credentials import ENV_VARS
from harness.receiver import BUGS, ReferenceReceiver

PROVIDER = "shopify"  # signs like GitHub (HMAC of the body, raw secret) from 4 event types: each run compiles fast


def _options(rx: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Command-line options for a receiver; the secret travels in its environment variable, as in CI."""
    creds = rx.credentials
    if creds.secret:
        monkeypatch.setenv(ENV_VARS["secret"], creds.secret)
    args = ["--webhook-url", rx.url, "--webhook-provider", rx.provider.id, "--webhook-probe-url", rx.probe_url]
    return [*args, "--webhook-max-examples", "5", "-p", "no:cacheprovider"]


@pytest.fixture
def receiver() -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver(PROVIDER) as rx:
        yield rx


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Item name -> outcome, read from the verbose report lines."""
    out = {}
    for line in result.outlines:
        for outcome in ("PASSED", "FAILED", "SKIPPED"):
            if "test_contract[" in line and f" {outcome}" in line:
                name = line[line.index("test_contract[") :].split("]")[0] + "]"
                out[name] = outcome
    return out


def test_plugin_is_silent_and_cheap_without_a_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_engine_not_imported():
            assert "harness.engine.runner" not in sys.modules
            assert "harness.checks" not in sys.modules
            assert "harness.strategies" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "webhook-harness:" not in result.stdout.str()


def test_suite_collects_in_an_empty_folder(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pytester.runpytest(*_options(receiver, monkeypatch), "--collect-only", "-q")
    text = result.stdout.str()
    assert f"test_contract[{PROVIDER}-accepts-valid]" in text
    assert f"test_contract[{PROVIDER}-rejects-bad-auth]" in text
    assert result.ret == 0


def test_reference_receiver_passes(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pytester.runpytest(*_options(receiver, monkeypatch), "-v")
    outcomes = _outcomes(result)
    assert outcomes, result.stdout.str()
    assert "FAILED" not in outcomes.values(), result.stdout.str()
    assert outcomes[f"test_contract[{PROVIDER}-single-effect]"] == "PASSED"
    assert result.ret == 0


@pytest.mark.parametrize("bug", ["auth-optional", "stores-duplicates", "strict-fields"])
def test_buggy_receiver_fails_exactly_the_right_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, bug: str
) -> None:
    expected = BUGS[bug].expected_failures(load_catalog().get(PROVIDER))
    with ReferenceReceiver(PROVIDER, bug=bug) as rx:
        result = pytester.runpytest(*_options(rx, monkeypatch), "-v", "--hypothesis-seed=7")
    failed = {name for name, outcome in _outcomes(result).items() if outcome == "FAILED"}
    assert failed == {f"test_contract[{PROVIDER}-{check}]" for check in expected}, result.stdout.str()
    assert result.ret == 1
    text = result.stdout.str()
    assert "Expected:" in text and "Received:" in text
    assert "Seed:     7" in text and "--hypothesis-seed=7" in text


def test_junit_xml_names_items_and_keeps_secrets_out(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceReceiver(PROVIDER, bug="auth-optional") as rx:
        secret = rx.credentials.secret
        assert secret
        result = pytester.runpytest(*_options(rx, monkeypatch), "--junitxml=report.xml")
    xml_text = (pytester.path / "report.xml").read_text()
    assert secret not in xml_text and secret not in result.stdout.str()
    cases = {case.get("name"): case for case in ET.fromstring(xml_text).iter("testcase")}
    assert f"test_contract[{PROVIDER}-rejects-missing-auth]" in cases
    assert cases[f"test_contract[{PROVIDER}-rejects-missing-auth]"].find("failure") is not None
    assert cases[f"test_contract[{PROVIDER}-accepts-valid]"].find("failure") is None
    classes = {name: {p.get("name"): p.get("value") for p in case.iter("property")} for name, case in cases.items()}
    assert classes[f"test_contract[{PROVIDER}-rejects-missing-auth]"]["class"] == "anyone-can-send"
    assert classes[f"test_contract[{PROVIDER}-accepts-valid]"]["class"] == "provider-sends"


def test_runs_with_xdist(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pytester.runpytest(*_options(receiver, monkeypatch), "-n", "2")
    assert result.ret == 0, result.stdout.str()
    assert "passed" in result.stdout.str()


def test_options_from_ini_and_secret_from_env(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert receiver.credentials.secret
    monkeypatch.setenv(ENV_VARS["secret"], receiver.credentials.secret)
    pytester.makeini(
        f"""
        [pytest]
        webhook_url = {receiver.url}
        webhook_provider = {PROVIDER}
        webhook_check =
            accepts-valid
            rejects-bad-auth
        """
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    assert set(_outcomes(result)) == {
        f"test_contract[{PROVIDER}-accepts-valid]",
        f"test_contract[{PROVIDER}-rejects-bad-auth]",
    }
    assert result.ret == 0


def test_k_selects_items_by_check_id(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = pytester.runpytest(*_options(receiver, monkeypatch), "-v", "-k", "rejects-bad-auth")
    assert set(_outcomes(result)) == {f"test_contract[{PROVIDER}-rejects-bad-auth]"}


def test_missing_provider_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--webhook-url", "http://127.0.0.1:9/hook")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--webhook-provider" in result.stderr.str()


def test_scenario_files_become_parametrized_tests(pytester: pytest.Pytester) -> None:
    from pathlib import Path

    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    pytester.makepyfile(
        f"""
        import pytest
        from harness.pytest_plugin import scenario_params
        from harness.catalog import load_catalog
        from harness.simulate import Outages, RetryPolicy, SimConfig, load_scenario, run_simulation

        @pytest.mark.parametrize("path", scenario_params({str(scenarios)!r}))
        def test_scenario(path):
            scenario = load_scenario(path)
            provider = load_catalog().get(scenario.provider)
            result = run_simulation(SimConfig(provider, RetryPolicy.from_profile(provider),
                                              units=scenario.units(provider), outages=Outages(scenario.outages)))
            assert result.exit_code == scenario.expect.get("exit_code", 0)
        """
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(list(scenarios.glob("*.toml"))))
    assert "test_scenario[sendgrid-employee-survey]" in result.stdout.str()
