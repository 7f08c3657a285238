"""`check --event`: the subscribed event types; an unknown one is a one-line warning, not an error."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver


def test_event_selects_the_types_and_an_unknown_one_is_a_one_line_warning(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("slack", mode="subscribed-only") as rx:
        secret = rx.credentials.secret or ""
        argv = ["check", "slack", rx.url, "--secret", secret, "--check", "accepts-valid", "--quiet", "--seed", "1"]
        code = main([*argv, "--event", "app_mention", "--event", "nope"])
        out = capsys.readouterr()
        assert code == 0 and "accepts-valid              PASSED" in out.out
        (line,) = [text for text in out.err.splitlines() if text]
        assert line.startswith("webhook-harness: warning: Unknown event type(s) for slack given to --event: nope")
        assert main(argv) == 0  # without --event: reaction_added gets 404 every time, a warning naming --event
        assert "WARNED" in capsys.readouterr().out


def test_event_takes_globs_as_the_other_commands_do() -> None:
    from harness.catalog import load_catalog

    slack = load_catalog().get("slack")
    subscribed, unknown = slack.subscribed(["app_*", "nope*"])
    app = ("app_mention", "app_rate_limited", "app_uninstalled")  # of Slack's 61 types
    assert subscribed.subscription == app and unknown == ["nope*"]
    assert list(subscribed.ordinary_events) == list(app)
