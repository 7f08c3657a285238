"""The plugin shares the CLI's resolver and opens one engine session per pytest session (issue 11)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from harness.credentials import ENV_VARS
from harness.receiver import ReferenceReceiver

PROVIDER = "github"


@pytest.fixture
def receiver() -> Iterator[ReferenceReceiver]:
    with ReferenceReceiver(PROVIDER) as rx:
        yield rx


def test_the_plugin_reads_the_same_config_file_keys_as_the_cli(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # url, provider, probe_url, seed, checks and [providers] overrides all come from webhook-harness.toml.
    assert receiver.credentials.secret
    monkeypatch.setenv(ENV_VARS["secret"], receiver.credentials.secret)
    pytester.path.joinpath("webhook-harness.toml").write_text(
        f'provider = "{PROVIDER}"\nurl = "{receiver.url}"\nprobe_url = "{receiver.probe_url}"\nseed = 4242\n'
        'checks = ["accepts-valid", "single-effect"]\n\n[providers.github]\ntimeout = "7s"\n',
        encoding="utf-8",
    )
    pytester.makeconftest(
        """
        def pytest_sessionfinish(session):
            from harness.pytest_plugin._items import SESSION_KEY
            state = session.config.stash.get(SESSION_KEY, None)
            if state is not None:
                ctx = state.session.context()
                with open("seen.txt", "w") as f:
                    f.write(f"{ctx.timeout} {ctx.seed} {ctx.probe is not None}")
        """
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider", "--webhook-url", receiver.url)
    text = result.stdout.str()
    assert result.ret == 0, text
    assert "single-effect] PASSED" in text and "accepts-valid] PASSED" in text
    assert "rejects-bad-auth" not in text
    assert (pytester.path / "seen.txt").read_text() == "7.0 4242 True"


def test_a_provider_override_typo_is_one_line_naming_the_config_file(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("webhook-harness.toml").write_text("[providers.github]\ntimeot = 3\n", encoding="utf-8")
    args = ["--webhook-url", "http://127.0.0.1:9/hook", "--webhook-provider", PROVIDER]
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "webhook-harness.toml: [providers.github]" in err and "timeot" in err and "Traceback" not in err


def test_one_preflight_for_the_whole_session(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert receiver.credentials.secret
    monkeypatch.setenv(ENV_VARS["secret"], receiver.credentials.secret)
    pytester.makeconftest(
        """
        import harness.preflight
        import harness.engine.session

        calls = []
        _real = harness.preflight.preflight

        def counting(url, **kw):
            calls.append(url)
            return _real(url, **kw)

        harness.engine.session.preflight = counting

        def pytest_sessionfinish(session):
            with open("preflights.txt", "w") as f:
                f.write(str(len(calls)))
        """
    )
    args = ["--webhook-url", receiver.url, "--webhook-provider", PROVIDER, "--webhook-max-examples", "3"]
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    assert (pytester.path / "preflights.txt").read_text() == "1"


def test_an_unreachable_receiver_fails_every_item_with_one_preflight(pytester: pytest.Pytester) -> None:
    args = ["--webhook-url", "http://127.0.0.1:9/hook", "--webhook-provider", PROVIDER, "--webhook-secret", "abcdef"]
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    text = result.stdout.str()
    assert result.ret == 1
    assert "Cannot reach the receiver" in text and "Traceback" not in text


def test_header_seed_matches_the_replay_lines_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shopify signs like GitHub from 4 event types: each xdist worker (a fresh process) compiles its generators fast
    with ReferenceReceiver("shopify", bug="auth-optional") as rx:
        assert rx.credentials.secret
        monkeypatch.setenv(ENV_VARS["secret"], rx.credentials.secret)
        monkeypatch.delenv("CI", raising=False)
        monkeypatch.delenv("WEBHOOK_HARNESS_SESSION_SEED", raising=False)
        args = ["--webhook-url", rx.url, "--webhook-provider", "shopify", "--webhook-max-examples", "3"]
        result = pytester.runpytest(*args, "-n", "2", "-p", "no:cacheprovider")
    text = result.stdout.str()
    header = re.search(r"hypothesis seed (\d+)", text)
    replays = set(re.findall(r"--hypothesis-seed=(\d+)", text))
    assert header and replays == {header.group(1)}, text


def test_a_warned_item_passes_with_a_warning_and_strict_fails_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceReceiver("stripe", mode="lenient") as rx:
        assert rx.credentials.secret
        monkeypatch.setenv(ENV_VARS["secret"], rx.credentials.secret)
        args = ["--webhook-url", rx.url, "--webhook-provider", "stripe", "--webhook-check", "rejects-schema-violations"]
        lenient = pytester.runpytest(*args, "-p", "no:cacheprovider", "-rA")
        strict = pytester.runpytest(*args, "--webhook-strict", "-p", "no:cacheprovider")
        as_error = pytester.runpytest(*args, "-W", "error::harness.pytest_plugin.WebhookContractWarning")
    assert lenient.ret == 0, lenient.stdout.str()
    lenient.assert_outcomes(passed=1, warnings=1)
    assert "WebhookContractWarning" in lenient.stdout.str()
    assert strict.ret == 1 and as_error.ret == 1


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["--webhook-timeout", "nan"], "timeout"),
        (["--webhook-max-examples", "-5"], "max-examples"),
        (["--webhook-url", "http://127.0.0.1:70000/x"], "ort"),
    ],
)
def test_bad_plugin_options_are_one_line_usage_errors(
    pytester: pytest.Pytester, option: list[str], needle: str
) -> None:
    # Issue 16: each of these printed thousands of traceback lines.
    args = ["--webhook-url", "http://127.0.0.1:9/x", "--webhook-provider", PROVIDER, "--webhook-secret", "abcdef"]
    result = pytester.runpytest(*args, *option, "-p", "no:cacheprovider")
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_the_fixture_reads_credentials_from_the_environment_without_a_webhook_url(
    pytester: pytest.Pytester, receiver: ReferenceReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 15: docs/pytest-plugin.md's fixture example skipped ("variant 'wrong-key' does not apply") unless
    # --webhook-url was also given, which added the 13 contract items.
    assert receiver.credentials.secret
    monkeypatch.setenv(ENV_VARS["secret"], receiver.credentials.secret)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.webhook("github", url="{receiver.url}")
        def test_bad_signature_is_rejected(webhook):
            reply = webhook.send("push", variant="wrong-key")
            assert reply.status in (401, 403)

        @pytest.mark.webhook("github", url="{receiver.url}")
        def test_good_signature_is_accepted(webhook):
            assert webhook.send("push").status == 200
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
    assert "test_contract[" not in result.stdout.str()
