"""The proof that every check can fail: the reference receiver passes every check, and each deliberate bug fails
exactly the checks it should, for every provider it applies to."""

from __future__ import annotations

import os

import pytest

from harness.catalog import load_catalog
from harness.probes import make_probe
from harness.receiver import BUGS, ReferenceReceiver
from harness.runner import RunConfig, run_checks

CATALOG = load_catalog()
PROVIDERS = [p.id for p in CATALOG]
FAST_TIMEOUT = 0.5  # the slow bug answers after 1 s; the provider timeouts themselves are tested in responds-in-time


def _run(provider: str, bug: str | None, **receiver_options: object) -> tuple[set[str], set[str], ReferenceReceiver]:
    slow = bug == "slow"
    with ReferenceReceiver(provider, bug=bug, delay=1.0 if slow else None, **receiver_options) as rx:  # type: ignore[arg-type]
        config = RunConfig(
            provider=provider,
            url=rx.url,
            credentials=rx.credentials,
            probe=make_probe(rx.probe_url),
            seed=1234,
            max_examples=8,
            timeout=FAST_TIMEOUT if slow else None,
        )
        result = run_checks(config)
    failed = {o.check for o in result.outcomes if o.status == "failed"}
    passed = {o.check for o in result.outcomes if o.status == "passed"}
    return failed, passed, rx


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reference_receiver_passes_every_check(provider: str) -> None:
    failed, passed, _ = _run(provider, None)
    assert failed == set()
    assert {"accepts-valid", "rejects-missing-auth", "rejects-bad-auth", "single-effect"} <= passed


CASES = [
    (provider, name)
    for provider in PROVIDERS
    for name, bug in BUGS.items()
    if (bug.providers is None or provider in bug.providers) and bug.applies_to(CATALOG.get(provider))
]


@pytest.mark.parametrize(("provider", "bug"), CASES, ids=[f"{p}-{b}" for p, b in CASES])
def test_each_bug_fails_exactly_its_checks(provider: str, bug: str) -> None:
    failed, _, rx = _run(provider, bug)
    expected = BUGS[bug].expected_failures(CATALOG.get(provider), rx.credentials)
    assert expected, "a bug that no check catches is a defect in the suite"
    assert failed == set(expected)


def test_every_check_is_caught_failing_somewhere() -> None:
    """No check is a check that cannot fail."""
    from harness.checks import ordered_ids

    caught = set()
    for provider, bug in CASES:
        caught |= BUGS[bug].expected_failures(CATALOG.get(provider))
    assert caught == set(ordered_ids())


@pytest.mark.postgres
def test_postgres_backed_receiver_passes_and_catches_duplicates() -> None:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    failed, passed, _ = _run("sendgrid", None, db_url=url)
    assert not failed and "single-effect" in passed
    failed, _, _ = _run("sendgrid", "stores-duplicates", db_url=url)
    assert failed == {"single-effect"}
