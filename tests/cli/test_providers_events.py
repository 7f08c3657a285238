"""`providers PROVIDER [--event GLOB]`: one provider's event types, filtered by globs."""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.cli import main


def test_a_provider_lists_its_event_types_and_a_glob_filters_them(capsys: pytest.CaptureFixture[str]) -> None:
    stripe = load_catalog().get("stripe")
    invoice = [name for name in stripe.ordinary_events if name.startswith("invoice.")]
    assert main(["providers", "stripe", "--event", "invoice.*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == invoice and {"invoice.paid", "invoice.payment_failed"} <= {
        *invoice
    }
    assert lines[-1] == f"{len(invoice)} of {len(stripe.ordinary_events)} event types match invoice.*"
    github = load_catalog().get("github")
    assert main(["providers", "github"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1]
        == f"{len(github.ordinary_events)} of {len(github.ordinary_events)} event types"
    )


def test_a_github_family_name_selects_every_action_of_it() -> None:
    github = load_catalog().get("github")
    actions = [name for name in github.ordinary_events if name.startswith("pull_request.")]
    assert len(actions) > 10 and github.events_matching(["pull_request"]) == actions
    assert github.events_matching(["push"]) == ["push"]  # an event without actions is its own type
    assert load_catalog().get("stripe").events_matching(["invoice"]) == []  # only where the header names a family


def test_events_matching_takes_exact_names_and_globs() -> None:
    stripe = load_catalog().get("stripe")
    assert stripe.events_matching(["invoice.paid", "customer.*"]) == [
        n for n in stripe.ordinary_events if n == "invoice.paid" or n.startswith("customer.")
    ]
    assert stripe.events_matching(["nothing.*"]) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["providers", "paddle", "--event", "nope*"], "paddle has no event type matching nope* (3 types)."),
        (["providers", "--event", "x"], "--event GLOB filters one provider's event types: name the PROVIDER too."),
    ],
)
def test_a_filter_that_matches_nothing_exits_2_in_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_load_event_names_take_globs_and_an_unmatched_glob_is_a_usage_error() -> None:
    from harness.errors import UsageError
    from harness.load.source import check_events

    stripe = load_catalog().get("stripe")
    invoice = tuple(name for name in stripe.ordinary_events if name.startswith("invoice."))
    assert check_events(stripe, ["invoice.*", "invoice.paid"]) == invoice
    with pytest.raises(UsageError, match=r"stripe has no event type matching 'zzz\.\*'"):
        check_events(stripe, ["zzz.*"])
