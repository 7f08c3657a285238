"""The seed question: the longest outage a policy survives with zero loss, wherever it starts."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from harness.simulate import Outages, RetryPolicy, SimConfig, Unit, max_survivable_outage, run_simulation
from tests.simulate._helpers import CATALOG, H, policy

ANSWERS = {
    "github": 0.0,
    "teams": 0.0,
    "slack": 6 * 60.0,
    "jira": 21 * 60.0 + 40,
    "oci": 63 * 60.0,
    "shopify": 3 * H + 21 * 60 + 10,
    "sendgrid": 20 * H + 15 * 60,
    "stripe": 228_960.0,  # 2 d 15 h 36 m: the next retry would fall after the 3-day window
    "standard": 272_105.0,  # about 75.6 h, the spec's example schedule
}


@pytest.mark.parametrize(("provider", "answer"), ANSWERS.items(), ids=list(ANSWERS))
def test_answers_per_provider(provider: str, answer: float) -> None:
    assert max_survivable_outage(policy(provider)) == answer


@pytest.mark.parametrize("provider", ["slack", "jira", "oci", "shopify", "sendgrid", "stripe", "standard"])
def test_the_answer_is_the_real_boundary(provider: str) -> None:
    """An outage of exactly the answer loses nothing wherever it starts; one second longer loses an event."""
    pol = policy(provider)
    answer = max_survivable_outage(pol)
    name = CATALOG.get(provider).ordinary_events[0]
    rng = random.Random(3)
    for start in (0.0, 1234.5, 7 * H):
        units = [Unit(start + d, [(name, start + d)]) for d in [0.0, 0.5, *(rng.random() * answer for _ in range(300))]]
        units += [
            Unit(start - d, [(name, start - d)]) for d in (rng.random() * answer for _ in range(100)) if d <= start
        ]
        survived = run_simulation(
            SimConfig(CATALOG.get(provider), pol, units=units, outages=Outages([(start, start + answer)]))
        )
        assert survived.lost == 0, (start, survived.lost_by_reason)
        longer = run_simulation(
            SimConfig(CATALOG.get(provider), pol, units=units, outages=Outages([(start, start + answer + 1)]))
        )
        assert longer.lost >= 1


def test_with_jitter_the_answer_is_the_earliest_possible_last_attempt() -> None:
    """Brute force over the jitter of each wait agrees with the analysis, and the engine never loses below it."""
    pol = RetryPolicy(delays=(10.0, 20.0, 40.0), window=60.0, jitter=0.2)
    answer = max_survivable_outage(pol)
    grid = [0.8 + 0.4 * i / 40 for i in range(41)]
    last_attempts = []
    for u1, u2, u3 in itertools.product(grid, repeat=3):
        x2 = 10 * u1
        x3 = x2 + 20 * u2
        x4 = x3 + 40 * u3
        last_attempts.append(x4 if x4 <= 60 else x3)
    assert min(last_attempts) == pytest.approx(answer, abs=0.5)
    assert answer == pytest.approx(24.0) and answer < pol.schedule()[-1]
    provider = CATALOG.get("standard")
    units = [Unit(100.0, [("message.created", 100.0)]) for _ in range(2000)]
    result = run_simulation(SimConfig(provider, pol, units=units, outages=Outages([(100.0, 100.0 + answer)])))
    assert result.lost == 0
    result = run_simulation(SimConfig(provider, pol, units=units, outages=Outages([(100.0, 100.0 + 40)])))
    assert result.lost > 0


def test_batching_lead_eats_into_the_window_and_endless_retries_survive_anything() -> None:
    tight = RetryPolicy(delays=(50.0,), window=60.0)
    assert max_survivable_outage(tight) == 50.0
    assert max_survivable_outage(tight, lead=30.0) == 0.0  # the retry at +50 s is past the oldest event's window
    assert math.isinf(max_survivable_outage(RetryPolicy(delays=(60.0,), factor=2.0)))
