"""`simulate --event`: a subscription limits the simulated deliveries to those event types, names or globs."""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.core.models import Delivery, Reply
from harness.errors import UsageError
from harness.simulate import simulate
from tests.simulate._helpers import answering


def _types(provider: str, event_types: tuple[str, ...]) -> set[str]:
    seen: list[Delivery] = []
    result = simulate(
        provider,
        "http://127.0.0.1:9/",
        events=40,
        spread="1h",
        seed=3,
        send=answering(lambda d: Reply(200), seen),
        event_types=event_types,
    )
    assert result.delivered == 40
    return {name for delivery in seen for name in delivery.event_types}


def test_only_the_subscribed_types_are_delivered() -> None:
    pulls = {t for t in load_catalog().get("github").ordinary_events if t.startswith("pull_request.")}
    drawn = _types("github", ("issues.opened", "pull_request.*"))
    assert drawn <= {"issues.opened"} | pulls and len(drawn) > 3
    assert _types("stripe", ("invoice.paid",)) == {"invoice.paid"}


def test_without_a_subscription_every_type_may_be_drawn() -> None:
    assert len(_types("github", ())) > 10  # 40 deliveries over 259 types


def test_an_unknown_type_or_glob_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match=r"no event type matching 'zzz\.\*'"):
        simulate("stripe", dry_run=True, events=10, event_types=("zzz.*",))
    assert main(["simulate", "stripe", "--dry-run", "--events", "10", "--event", "invoice.nope"]) == 2
    assert "has no event type 'invoice.nope'" in capsys.readouterr().err
