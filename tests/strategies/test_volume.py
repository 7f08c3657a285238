"""The volume generator: valid, seeded, fast enough for the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.errors import SchemaLoadError
from harness.generation.regex import seeded_regex
from harness.volume import VolumeGenerator

CATALOG = load_catalog()


@pytest.mark.parametrize("provider", [p.id for p in CATALOG])
def test_every_payload_validates(provider: str) -> None:
    prov = CATALOG.get(provider)
    gen = VolumeGenerator(prov, seed=3)
    draws = min(60, max(2, 600 // len(prov.ordinary_events)))  # 60 per type; 2 for GitHub's 259 and Stripe's 215
    for event in prov.ordinary_events:
        for _ in range(draws):
            payload = gen.payload(event, now=1_700_000_000)
            assert prov.schema_errors(event, payload) == []


@pytest.mark.parametrize("event", ["pull_request.review_requested", "pull_request.review_request_removed"])
def test_github_requested_reviewers_are_users_or_teams_never_both(event: str) -> None:
    """Issue 27: one draw in four was invalid (a User carrying a member only a Team may have)."""
    prov = CATALOG.get("github")
    gen = VolumeGenerator(prov, seed=5)
    reviewers = []
    for _ in range(30):
        payload = gen.payload(event, now=1_700_000_000)
        assert prov.schema_errors(event, payload) == []
        reviewers += [r for r in payload["pull_request"]["requested_reviewers"] if r is not None]
    assert any("login" in r for r in reviewers) and any("slug" in r for r in reviewers)


def test_same_seed_same_payloads() -> None:
    first = list(VolumeGenerator("sendgrid", seed=9).events(50, now=1_700_000_000))
    second = list(VolumeGenerator("sendgrid", seed=9).events(50, now=1_700_000_000))
    third = list(VolumeGenerator("sendgrid", seed=10).events(50, now=1_700_000_000))
    assert first == second != third


def test_deliveries_batch_for_sendgrid() -> None:
    deliveries = list(VolumeGenerator("sendgrid", seed=1).deliveries(3, batch_size=4))
    assert all(len(d.idempotency_keys) == 4 and d.body.endswith(b"\r\n") for d in deliveries)


@pytest.mark.parametrize(
    "pattern", [r"^[A-Za-z0-9_-]{22}$", r"^(all|[A-Z]{3}-AD-[1-3])$", r"^x(ab|cd)*y?$", r"^[^a-z]{3}$"]
)
def test_seeded_regex_fully_matches(pattern: str) -> None:
    import random
    import re

    gen, rng = seeded_regex(pattern), random.Random(0)
    for _ in range(200):
        assert re.fullmatch(pattern.strip("^$"), gen(rng))


@pytest.mark.parametrize(
    ("pattern", "sample", "construct"),
    [
        (r"^(?=.*[0-9])[a-z0-9]{8}$", "abcd1234", "lookahead"),
        (r"^(a)\1$", "aa", "backreference"),
        (r"^\bword$", "word", "word boundary"),
    ],
)
def test_unsupported_pattern_is_a_one_line_schema_error(
    tmp_path: Path, pattern: str, sample: str, construct: str
) -> None:
    folder = _user_provider(tmp_path, pattern, sample)
    gen = VolumeGenerator("acme", catalog=load_catalog(folder))
    with pytest.raises(SchemaLoadError) as caught:
        gen.payload("thing.created", now=1_700_000_000)
    message = str(caught.value)
    assert "\n" not in message and repr(pattern) in message and construct in message


def _user_provider(tmp_path: Path, pattern: str, sample: str) -> Path:
    """A user's catalog folder holding one provider whose only event has a string with ``pattern``."""
    src = CATALOG.get("github").root
    folder = tmp_path / "schemas" / "acme"
    folder.mkdir(parents=True)
    profile = json.loads((src / "profile.json").read_text())
    profile["id"], profile["title"] = "acme", "Acme"
    profile.pop("lifecycles", None)  # GitHub's lifecycles name GitHub's events, which this provider does not have
    (folder / "events").mkdir()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/acme/thing.created.json",
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "pattern": pattern}},
    }
    (folder / "events" / "thing.created.json").write_text(json.dumps(schema))
    (folder / "samples").mkdir()
    (folder / "samples" / "thing.created.json").write_text(json.dumps({"code": sample}))
    profile["events"] = {
        "thing.created": {"schema": "events/thing.created.json", "samples": ["samples/thing.created.json"]}
    }
    (folder / "profile.json").write_text(json.dumps(profile))
    return tmp_path / "schemas"


def test_the_hypothesis_strategies_refuse_a_lookahead_in_one_line(tmp_path: Path) -> None:
    from hypothesis import find

    from harness.strategies import payloads

    catalog = load_catalog(_user_provider(tmp_path, r"^(?=.*[0-9])[a-z0-9]{8}$", "abcd1234"))
    with pytest.raises(SchemaLoadError) as caught:
        find(payloads(catalog.get("acme"), "thing.created"), lambda _: True)
    assert "\n" not in str(caught.value) and "a lookahead or lookbehind" in str(caught.value)


def test_the_hypothesis_strategies_still_draw_a_negative_lookahead(tmp_path: Path) -> None:
    import re

    from hypothesis import find

    from harness.strategies import payloads

    pattern = r"^(?![0-9])[a-z0-9]{4}$"
    catalog = load_catalog(_user_provider(tmp_path, pattern, "abcd"))
    found = find(payloads(catalog.get("acme"), "thing.created"), lambda p: any(c.isdigit() for c in p["code"]))
    assert re.fullmatch(pattern, found["code"])


def test_the_one_delivery_pool_rekeys_bodies_and_keeps_the_types_asked_for() -> None:
    """``FreshDeliveries``: what load, Locust and the simulator all draw from."""
    from harness.catalog import load_catalog
    from harness.simulate import SimConfig
    from harness.simulate.engine import DeliveryFactory, build_workload
    from harness.volume import FreshDeliveries

    catalog = load_catalog()
    pool = FreshDeliveries(catalog.get("github"), reuse=4)
    drawn = [pool.fresh() for _ in range(40)]
    assert len({d.idempotency_keys for d in drawn}) == 40  # every delivery under a key of its own
    assert len({d.body for d in drawn}) == 4  # ... on four generated bodies
    batch = FreshDeliveries(catalog.get("sendgrid")).fresh(3, types=["open", None, "click"])
    assert batch.event_types[0] == "open" and batch.event_types[2] == "click" and len(batch.event_types) == 3

    config = SimConfig(catalog.get("github"), event_count=100, dry_run=False, url="http://127.0.0.1:9/")
    factory = DeliveryFactory(config, config.retry_policy, build_workload(config))
    assert isinstance(factory.pool, FreshDeliveries)
    keys = [factory.keys(u) for u in range(100)]
    assert len(set(keys)) == 100 and factory.keys(7) == keys[7]  # built once per unit, distinct across units
