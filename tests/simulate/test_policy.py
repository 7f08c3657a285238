"""Retry policies come from the provider profiles and match the documented facts (issue 5, section 1)."""

from __future__ import annotations

import itertools
import random
import shutil
from pathlib import Path

import pytest

from harness.core.models import Reply
from harness.errors import UsageError
from harness.simulate import RetryPolicy
from harness.simulate.policy import retry_after_seconds
from tests.simulate._helpers import CATALOG, H, policy


def test_sendgrid_retries_any_non_2xx_for_24_hours_rolling_with_a_configurable_exponential_default() -> None:
    sendgrid = policy("sendgrid")
    assert sendgrid.window == 24 * H and sendgrid.max_attempts is None
    assert sendgrid.retryable(400) and sendgrid.retryable(302) and sendgrid.retryable(503)
    assert sendgrid.schedule()[1:4] == [60.0, 180.0, 420.0]  # 1 m, then doubling
    assert sendgrid.schedule()[-1] <= 24 * H
    faster = policy("sendgrid", backoff={"delays": ["10s"], "factor": 3})
    assert faster.schedule()[1:3] == [10.0, 40.0] and faster.window == 24 * H


def test_oci_retries_immediately_then_doubles_from_one_minute_within_two_hours() -> None:
    oci = policy("oci")
    assert oci.window == 2 * H
    gaps = [b - a for a, b in itertools.pairwise(oci.schedule())]
    assert gaps[:7] == [0.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0]


def test_jira_retries_its_statuses_and_connection_failures_five_times_with_the_retry_header() -> None:
    jira = policy("jira")
    assert jira.max_attempts == 6 and len(jira.schedule()) == 6
    assert jira.retry_headers == {"X-Atlassian-Webhook-Retry": "retry_number"}
    for status in (408, 409, 425, 429, 500, 503, 599):
        assert jira.retryable(status)
    for status in (301, 400, 401, 403, 404, 410, 422):
        assert not jira.retryable(status)
    assert jira.retryable(0, "connection refused") and jira.retryable(0, "timed out after 20s")


def test_slack_retries_three_times_with_its_headers_and_honours_no_retry() -> None:
    slack = policy("slack")
    assert slack.schedule() == [0.0, 0.0, 60.0, 360.0]
    assert set(slack.retry_headers) == {"X-Slack-Retry-Num", "X-Slack-Retry-Reason"}
    assert not slack.is_retryable(Reply(500, {"x-slack-no-retry": "1"}))
    assert slack.is_retryable(Reply(500))


def test_stripe_shopify_standard_github_teams() -> None:
    assert policy("stripe").window == 72 * H
    shopify = policy("shopify")
    assert len(shopify.schedule()) == 8 and shopify.schedule()[-1] <= 4 * H
    assert shopify.on_exhausted == "disable-endpoint"
    standard = policy("standard")
    assert {"retry-after", "410-disables"} <= standard.honours
    assert standard.schedule()[1:] == [5.0, 305.0, 2105.0, 9305.0, 27305.0, 63305.0, 113705.0, 185705.0, 272105.0]
    assert not standard.is_retryable(Reply(410))
    assert policy("github").schedule() == [0.0] and policy("teams").schedule() == [0.0]


def test_resigning_each_attempt_follows_the_profile() -> None:
    assert policy("stripe").resign_each_attempt and policy("standard").resign_each_attempt
    assert not policy("jira").resign_each_attempt  # no timestamp in X-Hub-Signature


def test_next_delay_applies_bounded_jitter() -> None:
    jittered = policy("sendgrid", backoff={"jitter": 0.2})
    rng = random.Random(1)
    draws = [jittered.next_delay(1, rng) for _ in range(500)]
    assert all(d is not None and 48.0 <= d <= 72.0 for d in draws)
    assert min(d for d in draws if d) < 52 and max(d for d in draws if d) > 68
    assert policy("jira").next_delay(6) is None  # the sixth attempt was the last
    capped = policy("sendgrid")
    assert capped.next_delay(30) == 4 * H  # max_delay


def test_retry_after_is_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"backoff": {"jitter": 1.5}}, "jitter"),
        ({"backoff": {"factor": 0.5}}, "factor"),
        ({"window": "soon"}, "retry window"),
        ({"on_exhausted": "explode"}, "on_exhausted"),
    ],
)
def test_bad_overrides_are_usage_errors_naming_the_key(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        RetryPolicy.from_profile(CATALOG.get("sendgrid"), overrides)


def test_describe_is_one_line() -> None:
    assert policy("github").describe() == "no retries"
    assert policy("jira").describe().startswith("6 attempts: retries at +10s")


def test_the_catalog_holds_a_typed_retry_spec_the_policy_reads() -> None:
    from harness.catalog import RetrySpec

    stripe = CATALOG.get("stripe")
    assert isinstance(stripe.retry, RetrySpec) and stripe.retry.window == 3 * 24 * H
    assert stripe.retry.max_delay == 12 * H and stripe.retry.factor == 2.0
    with pytest.raises(AttributeError):
        stripe.retry.window = 1.0  # type: ignore[misc]
    from_profile = RetryPolicy.from_profile(stripe)
    assert (
        isinstance(from_profile, RetrySpec)
        and from_profile.schedule() == RetryPolicy.from_spec(stripe.retry).schedule()
    )
    assert from_profile.window == stripe.retry.window


def test_overrides_merge_key_by_key_over_the_typed_spec() -> None:
    sendgrid = CATALOG.get("sendgrid")
    merged = RetryPolicy.from_profile(sendgrid, {"backoff": {"jitter": 0.1}, "window": "2h"})
    assert merged.jitter == 0.1 and merged.window == 2 * H
    assert merged.delays == sendgrid.retry.delays and merged.factor == sendgrid.retry.factor  # the rest is kept
    assert sendgrid.retry.jitter == 0.0 and sendgrid.retry.window == 24 * H  # the catalog's spec is untouched


def test_a_bad_retry_block_in_a_user_profile_is_a_schema_load_error(tmp_path: Path) -> None:
    import json

    from harness.catalog import load_catalog
    from harness.errors import SchemaLoadError

    src = CATALOG.get("github").root
    folder = tmp_path / "schemas" / "github"
    shutil.copytree(src, folder)
    profile = json.loads((folder / "profile.json").read_text())
    profile["retry"]["window"] = "400d"  # the meta-schema's duration pattern admits it; the parser does not
    (folder / "profile.json").write_text(json.dumps(profile))
    with pytest.raises(SchemaLoadError, match=r"profile\.json: Invalid retry.window duration '400d': longer than"):
        load_catalog(tmp_path / "schemas")


def test_max_survivable_outage_lives_on_the_policy() -> None:
    from harness.simulate.policy import max_survivable_outage

    jira = policy("jira")
    assert jira.max_survivable_outage() == max_survivable_outage(jira) == jira.schedule()[-1]
