"""A check's additions never push a body over the provider's size cap: a provider never sends more than it, so a
correct receiver refuses such a body rightly (SNS: a 256 KB ``Message`` plus one new field got a 413)."""

from __future__ import annotations

from dataclasses import replace

from harness.catalog import load_catalog
from harness.checks.bodies import _within_size_cap
from harness.core.models import Delivery

SNS = load_catalog().get("aws-sns")


def _delivery(size: int) -> Delivery:
    return Delivery("aws-sns", "POST", {}, b"x" * size, ("Notification",), ("k",))


def test_a_body_over_the_cap_is_drawn_again() -> None:
    cap = SNS.body.max_bytes
    drawn = iter([_delivery(cap + 80), _delivery(cap + 1), _delivery(cap)])
    assert len(_within_size_cap(SNS, lambda: next(drawn)).body) == cap


def test_the_draws_are_bounded() -> None:
    tiny = replace(SNS, body=replace(SNS.body, max_bytes=1, batch_max_bytes=None))
    calls: list[int] = []

    def make() -> Delivery:
        calls.append(1)
        return _delivery(10)

    assert len(_within_size_cap(tiny, make).body) == 10 and 1 < len(calls) <= 21  # the last draw is sent as it is
