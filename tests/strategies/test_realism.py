"""Generated payloads keep the providers' documented invariants: timestamps near now, exclusive flags, codes in range.

Each provider is checked through both generators: the Hypothesis strategies (``deliveries``) and the seeded volume
generator. The facts come from the schemas' descriptions (and through them from the providers' documentation).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, seed, settings

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.core.pointers import MISSING, resolve_pointer
from harness.strategies import deliveries
from harness.volume import VolumeGenerator

NOW = 1_800_000_000.0
WINDOW = 3600.0  # generated timestamps fall within the hour before now
ZEROS = "0" * 40
RFC3463 = re.compile(r"^[245]\.[0-7]\.(0|[1-9][0-9]{0,2})$")  # class.subject.detail, subject 0..7, no leading zeros
NODE_ID = re.compile(r"^[A-Za-z0-9+/=_-]+$")


def _seconds(value: Any) -> float:
    """A timestamp in any of the providers' forms, as Unix seconds."""
    if isinstance(value, int) and value > 10**11:
        return value / 1000
    if isinstance(value, int | float):
        return float(value)
    if re.fullmatch(r"[0-9]{10}\.[0-9]{6}", value):
        return float(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _near_now(value: Any) -> bool:
    return NOW - WINDOW - 1 <= _seconds(value) <= NOW + 1


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, value in node.items():
            yield name, value
            yield from _walk(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)


# The time members each provider stamps with "now" (JSON Pointers; absent optional members are skipped).
TIMES = {
    "sendgrid": ["/timestamp"],
    "jira": ["/timestamp"],
    "teams": ["/timestamp"],
    "oci": ["/eventTime"],
    "github": ["/head_commit/timestamp", "/issue/created_at", "/pull_request/created_at"],
    "stripe": ["/created"],
    "slack": ["/event_time", "/event/ts", "/event/event_ts"],
    "shopify": ["/created_at", "/updated_at"],
    "standard": ["/timestamp"],
}


def _github(event: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
    for name, value in _walk(payload):
        if name == "node_id":
            assert NODE_ID.match(value), f"node_id {value!r} is not base64-like"
    for header in ("X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID"):
        assert headers[header].isdigit() and not headers[header].startswith("0"), headers[header]
    if event == "push":
        assert not (payload["created"] and payload["deleted"]), "a push both created and deleted its ref"
        if payload["created"]:
            assert payload["before"] == ZEROS
        if payload["deleted"]:
            assert payload["after"] == ZEROS and payload["commits"] == [] and payload["head_commit"] is None


def _slack(event: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
    inner = payload.get("event", {})
    if "event_ts" in inner:
        assert payload["event_time"] == int(float(inner["event_ts"]))
    if event in ("message", "app_mention") and "event_ts" in inner:
        assert inner["event_ts"] == inner["ts"]
    for name, value in _walk(inner):
        if name in ("ts", "event_ts", "thread_ts"):
            assert _near_now(value), f"{name} {value} is not within the hour before now"


def _sendgrid(event: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
    sg_event_id = payload["sg_event_id"]
    assert len(sg_event_id) in (22, 24) or 44 <= len(sg_event_id) <= 64, sg_event_id
    if "status" in payload:
        assert RFC3463.match(payload["status"]), payload["status"]
    if event in ("bounce", "dropped") and "status" in payload:
        assert payload["status"][0] in "45", "a bounce or drop is a failure (4.x.x or 5.x.x)"
    if event == "bounce":
        assert payload["reason"][0] == payload["status"][0], (payload["status"], payload["reason"])
    if event == "deferred":
        assert payload["response"].startswith("4")


def _shopify(event: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
    for name, value in _walk(payload):
        if name == "admin_graphql_api_id":
            assert not value.rsplit("/", 1)[1].startswith("0"), value


def _none(event: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
    return None


INVARIANTS: dict[str, Callable[[str, dict[str, Any], dict[str, str]], None]] = {
    "github": _github,
    "slack": _slack,
    "sendgrid": _sendgrid,
    "shopify": _shopify,
}


EXTRA_TYPES = 8  # per large catalog, beyond its default sample: seeded, so every run checks the same types
EXTRA_SEED = 2027


@functools.cache
def _sampled(name: str) -> Provider:
    """A large catalog's default sample plus a seeded few of its other types (all of them would take minutes)."""
    full = load_catalog().get(name)
    names = full.sample_names
    if names is None:
        return full
    rest = sorted(set(full.ordinary_events) - set(names))
    chosen = [*names, *random.Random(EXTRA_SEED).sample(rest, min(EXTRA_TYPES, len(rest)))]
    return dataclasses.replace(full.subscribed(chosen)[0], subscription=())


def _check_delivery(provider: str, delivery: Delivery) -> None:
    body = json.loads(delivery.body)
    events = body if isinstance(body, list) else [body]
    for index, payload in enumerate(events):
        event = delivery.event_types[index] if len(delivery.event_types) > index else delivery.event_types[0]
        for pointer in TIMES[provider]:
            value = resolve_pointer(payload, pointer)
            if value is not MISSING and value is not None:
                assert _near_now(value), f"{provider} {event} {pointer} = {value} is not within the hour before now"
        INVARIANTS.get(provider, _none)(event, payload, dict(delivery.headers))


@pytest.mark.parametrize("provider", sorted(TIMES))
def test_volume_payloads_keep_the_documented_invariants(provider: str) -> None:
    for delivery in VolumeGenerator(_sampled(provider), seed=7).deliveries(200, now=NOW):
        _check_delivery(provider, delivery)


@pytest.mark.parametrize("provider", sorted(TIMES))
def test_hypothesis_payloads_keep_the_documented_invariants(provider: str) -> None:
    @settings(max_examples=15, database=None, deadline=None)
    @given(deliveries(_sampled(provider), now=NOW))
    def check(delivery: Delivery) -> None:
        _check_delivery(provider, delivery)

    check()


def test_github_push_flags_cover_create_delete_and_update() -> None:
    seen = set()
    for _, payload in VolumeGenerator("github", seed=3).events(200, "push", now=NOW):
        seen.add((payload["created"], payload["deleted"]))
    assert seen == {(True, False), (False, True), (False, False)}


def test_bounce_reasons_follow_both_status_classes() -> None:
    classes = {p["status"][0] for _, p in VolumeGenerator("sendgrid", seed=5).events(200, "bounce", now=NOW)}
    assert classes == {"4", "5"}


def _sizes(batches: Iterator[Delivery]) -> list[int]:
    return [len(json.loads(d.body)) for d in batches]


def test_sendgrid_batches_range_from_one_event_to_hundreds() -> None:
    sizes = _sizes(VolumeGenerator("sendgrid", seed=11).deliveries(200, batch_size=None, now=NOW))
    assert min(sizes) == 1 and max(sizes) > 100
    assert sum(size <= 5 for size in sizes) > len(sizes) / 3, "most batches are a handful of events"
    assert len(set(sizes)) > 20


def test_hypothesis_sendgrid_batches_have_distinct_event_ids_and_a_mix_of_sizes() -> None:
    sizes: list[int] = []

    # A statistical property (sizes spread up to SendGrid's batches): a fixed seed keeps it from flaking.
    @seed(20261206)
    @settings(max_examples=60, database=None, deadline=None)
    @given(deliveries("sendgrid", now=NOW))
    def check(delivery: Delivery) -> None:
        events = json.loads(delivery.body)
        ids = [e["sg_event_id"] for e in events]
        assert len(ids) == len(set(ids))
        sizes.append(len(events))

    check()
    assert min(sizes) == 1 and max(sizes) > 50


@pytest.mark.slow
@pytest.mark.parametrize("run_seed", [0, 1, 2])
def test_the_readme_example_passes_hypothesis_default_health_checks(run_seed: int) -> None:
    # README: @given(deliveries("sendgrid")) with no settings at all. The project's conftest may load a profile, so
    # the test pins Hypothesis' own defaults (every health check on) and varies the seed.
    @seed(run_seed)
    @settings(settings.get_profile("default"), database=None, suppress_health_check=())
    @given(deliveries("sendgrid"))
    def test_handler(delivery: Delivery) -> None:
        assert delivery.body.endswith(b"\r\n")

    test_handler()


def test_invariant_rules_set_copy_and_leave_optional_members_absent() -> None:
    from harness.generation.values import compile_invariants

    fix = compile_invariants(
        {
            "x-invariants": [
                {"if": {"/a": True}, "then": {"/b": False, "/c/d": "x"}},
                {"copy": "/ts", "to": "/time", "as": "unix"},
                {"copy": "/status", "to": "/reason", "chars": 1},
                {"copy": "/ts", "to": "/absent"},
            ]
        }
    )
    assert fix is not None
    doc = fix({"a": True, "b": True, "c": {}, "ts": "1700000000.000100", "time": 1, "status": "5.1.1", "reason": "4xx"})
    assert doc == {
        "a": True,
        "b": False,
        "c": {"d": "x"},
        "ts": "1700000000.000100",
        "time": 1700000000,
        "status": "5.1.1",
        "reason": "5xx",
    }
    assert compile_invariants({}) is None


@pytest.mark.parametrize(
    "rule", [{"when": {}}, {"copy": "/a", "to": "/b", "as": "hex"}, {"copy": "/a", "to": "/b", "chars": "1"}, "x"]
)
def test_a_bad_invariant_rule_is_a_one_line_catalog_error(rule: Any) -> None:
    from harness.errors import SchemaLoadError
    from harness.generation.values import compile_invariants

    with pytest.raises(SchemaLoadError, match="x-invariants"):
        compile_invariants({"x-invariants": [rule]})
