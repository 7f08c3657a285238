"""Side-effect probes, HTTP and SQL, against the reference receiver on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os

import pytest

from harness.credentials import without_userinfo
from harness.engine.runner import RunConfig, run_checks
from harness.errors import ConfigError, UsageError
from harness.probes.counts import HttpProbe, SqlProbe, make_probe
from harness.receiver import ReferenceReceiver


def _pg_url() -> str:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    return url


def _single_effect(provider: str, db_url: str | None, bug: str | None) -> str:
    with ReferenceReceiver(provider, db_url=db_url, bug=bug) as rx:
        probe = SqlProbe(rx.db_url, rx.probe_sql)
        config = RunConfig(provider, rx.url, rx.credentials, probe=probe, seed=3, checks=["single-effect"])
        return run_checks(config).outcomes[0].status


@pytest.mark.parametrize("bug", [None, "stores-duplicates", "racy-dedupe"])
def test_sql_probe_on_sqlite(bug: str | None) -> None:
    assert _single_effect("jira", None, bug) == ("passed" if bug is None else "failed")


@pytest.mark.postgres
@pytest.mark.parametrize("bug", [None, "stores-duplicates", "racy-dedupe"])
def test_sql_probe_and_receiver_on_postgres(bug: str | None) -> None:
    assert _single_effect("shopify", _pg_url(), bug) == ("passed" if bug is None else "failed")


def test_probe_option_errors() -> None:
    with pytest.raises(UsageError, match="event_id"):
        make_probe(probe_url="http://127.0.0.1:9/count")
    with pytest.raises(UsageError, match="go together"):
        make_probe(probe_db="sqlite://")
    with pytest.raises(UsageError, match="either"):
        make_probe(probe_url="http://x/{event_id}", probe_db="sqlite://", probe_sql="select :event_id")
    with pytest.raises(UsageError, match="SQLAlchemy"):
        make_probe(probe_db="nope://", probe_sql="select 1 where :event_id = 1")


def test_bad_probe_answers_are_config_errors() -> None:
    with ReferenceReceiver("github") as rx:
        with pytest.raises(ConfigError, match="answered HTTP 404"):
            HttpProbe(rx.url.rsplit("/", 1)[0] + "/missing/{event_id}").count("x")
    with pytest.raises(ConfigError, match="cannot be reached"):
        HttpProbe("http://127.0.0.1:9/{event_id}", timeout=1).count("x")
    with pytest.raises(ConfigError, match="query failed"):
        SqlProbe("sqlite://", "select count(*) from missing_table where id = :event_id").count("x")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:p@127.0.0.1:9/count/{event_id}", "http://127.0.0.1:9/count/{event_id}"),
        ("http://127.0.0.1:9/count?who=a@b.example", "http://127.0.0.1:9/count?who=a@b.example"),  # not user-info
        ("http://u:p@host?who=a@b", "http://host?who=a@b"),
        ("http://u:p@[::1]:9#a@b", "http://[::1]:9#a@b"),
        ("not a url @ all", "not a url @ all"),
    ],
)
def test_user_info_is_dropped_from_the_url_and_nothing_else(url: str, shown: str) -> None:
    assert without_userinfo(url) == shown


def test_a_probe_describes_itself_without_user_info_but_with_its_host() -> None:
    probe = make_probe("http://u:p@127.0.0.1:9/count/{event_id}?who=a@b.example")
    assert probe.describe() == "http://127.0.0.1:9/count/{event_id}?who=a@b.example"  # once "http://b.example"
