"""The value types crossing layers: Delivery copies and Reply summaries."""

from __future__ import annotations

import dataclasses

import pytest

from harness.core.models import Delivery, Reply, header_lookup


def _delivery(**changes: object) -> Delivery:
    base = Delivery(
        provider="github",
        method="POST",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
        body=b"{}",
        event_types=("push",),
        idempotency_keys=("k1",),
    )
    return base.replace(**changes) if changes else base


def test_header_lookup_ignores_case() -> None:
    assert header_lookup({"X-Thing": "1"}, "x-thing") == "1" and header_lookup({}, "x") is None
    assert _delivery().header("x-github-event") == "push"


def test_with_headers_replaces_a_header_whatever_its_case() -> None:
    original = _delivery()
    changed = original.with_headers({"content-type": "text/plain", "X-New": "1"}, label="retry 1")
    assert dict(changed.headers) == {"X-GitHub-Event": "push", "content-type": "text/plain", "X-New": "1"}
    assert changed.label == "retry 1" and changed.header("Content-Type") == "text/plain"
    assert dict(original.headers) == {"Content-Type": "application/json", "X-GitHub-Event": "push"}


def test_with_headers_after_a_lookup_sees_fresh_headers() -> None:
    first = _delivery().with_headers({"X-A": "1"})
    assert first.header("x-a") == "1"
    second = first.with_headers({"x-a": "2"})
    assert dict(second.headers)["x-a"] == "2" and "X-A" not in second.headers


def test_without_headers_and_replace() -> None:
    delivery = _delivery().without_headers(["content-type"])
    assert dict(delivery.headers) == {"X-GitHub-Event": "push"}
    assert delivery.replace(body=b"[]").body == b"[]"
    with pytest.raises(TypeError, match="unknown Delivery fields: nope"):
        delivery.replace(nope=1)
    with pytest.raises(TypeError, match="unknown Delivery fields"):
        delivery.with_headers({}, nope=1)


def test_delivery_is_frozen_and_compares_by_value() -> None:
    delivery = _delivery()
    with pytest.raises(dataclasses.FrozenInstanceError):
        delivery.body = b"x"  # type: ignore[misc]
    assert delivery.replace(label="valid") == delivery


def test_reply() -> None:
    assert Reply(204).ok and not Reply(301).ok and not Reply(0, error="refused").ok
    assert Reply(200, {"Retry-After": "5"}).header("retry-after") == "5"
    assert Reply(0, elapsed=1.5, error="timed out").describe() == "no response (timed out) after 1.50s"
    assert Reply(500, body=b"boom\nline", elapsed=0.012).describe() == "HTTP 500 in 12 ms: boom line"
    assert Reply(200, body=b"x" * 300).describe(limit=3).endswith(": xxx…")
    assert Reply(200, body=b"ok", truncated=True).describe().endswith("ok…")
