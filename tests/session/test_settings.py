"""The one resolver: precedence, the config file's schema, and values checked where they enter (issues 11, 15, 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.credentials import Credentials
from harness.errors import ConfigError, HarnessError, UsageError
from harness.preflight import check_credentials
from harness.settings.file import load_config
from harness.settings.resolve import resolve_run_config

BASE = {"provider": "github", "url": "http://127.0.0.1:9/hook"}


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webhook-harness.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_option_then_env_then_file(tmp_path: Path) -> None:
    path = _config(tmp_path, 'secret = "from-file"\nseed = 3\ntimeout = "10s"\nmax_examples = 7\n')
    env = {"WEBHOOK_HARNESS_SECRET": "from-env"}
    config = resolve_run_config({**BASE, "secret": "from-option"}, config_path=str(path), env=env)
    assert config.credentials.secret == "from-option"
    config = resolve_run_config(BASE, config_path=str(path), env=env)
    assert config.credentials.secret == "from-env"
    config = resolve_run_config(BASE, config_path=str(path), env={})
    assert (config.credentials.secret, config.seed, config.timeout, config.max_examples) == ("from-file", 3, 10.0, 7)


def test_url_and_provider_keys_of_the_config_file_work(tmp_path: Path) -> None:
    path = _config(tmp_path, 'provider = "stripe"\nurl = "http://127.0.0.1:8/x"\n')
    config = resolve_run_config({}, config_path=str(path), env={})
    assert (config.provider, config.url) == ("stripe", "http://127.0.0.1:8/x")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('timeout = "abc"', "timeout"),
        ("timeout = -1", "timeout"),
        ('max_examples = "lots"', "max_examples"),
        ("max_examples = 0", "max_examples"),
        ("secret = 12345", "secret"),
        ('basic = ["onlyone"]', "basic"),
        ("urll = 'x'", "unknown key 'urll'"),
        ('[checks.accepts-valid]\nseverity = "loud"', "checks"),
        ("[providers]\ngithub = 3", "providers.github"),
    ],
)
def test_config_values_of_the_wrong_type_are_one_line_naming_the_key(tmp_path: Path, text: str, needle: str) -> None:
    path = _config(tmp_path, text + "\n")
    with pytest.raises(HarnessError) as info:
        resolve_run_config(BASE, config_path=str(path), env={})
    message = str(info.value)
    assert needle in message and "\n" not in message and str(path) in message


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"timeout": "nan"}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"timeout": "1e300"}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"max_examples": 0}, "max-examples"),
        ({"seed": -4}, "seed"),
        ({"url": "http://127.0.0.1:99999/x"}, "(?i)port"),
        ({"url": "http://[::1/x"}, "receiver URL"),
        ({"url": "ftp://127.0.0.1/x"}, "http://"),
    ],
)
def test_bad_values_are_usage_errors(options: dict[str, object], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        resolve_run_config({**BASE, **options}, config={}, env={})


def test_timeout_as_a_duration_string_in_the_config_file_is_seconds(tmp_path: Path) -> None:
    # Before the resolver, `timeout = "10s"` crashed `check` with a TypeError traceback.
    path = _config(tmp_path, 'timeout = "1m30s"\n')
    assert resolve_run_config(BASE, config_path=str(path), env={}).timeout == 90.0


def test_checks_table_sets_severities_and_a_list_selects(tmp_path: Path) -> None:
    path = _config(tmp_path, '[checks.rejects-malformed]\nseverity = "warn"\n[checks.handshake]\nseverity = "off"\n')
    config = resolve_run_config(BASE, config_path=str(path), env={})
    assert dict(config.severities) == {"rejects-malformed": "warn", "handshake": "off"}
    path = _config(tmp_path, 'checks = ["accepts-valid"]\nexclude_checks = ["handshake"]\n')
    config = resolve_run_config(BASE, config_path=str(path), env={})
    assert (tuple(config.checks), tuple(config.exclude_checks)) == (("accepts-valid",), ("handshake",))


def test_basic_and_bearer_have_environment_variables() -> None:
    config = resolve_run_config(
        {**BASE, "provider": "oci"}, config={}, env={"WEBHOOK_HARNESS_BASIC": "u:p", "WEBHOOK_HARNESS_BEARER": "tok"}
    )
    assert config.credentials.basic == ("u", "p") and config.credentials.bearer == "tok"


def test_a_stray_client_secret_does_not_break_providers_without_oauth() -> None:
    from harness.catalog import load_catalog

    catalog = load_catalog()
    stray = Credentials(secret="s3cret-value", client_secret="stray")
    check_credentials(catalog.get("github"), stray)  # no error: GitHub has no OAuth
    key_only = Credentials(signing_key="key.pem", client_secret="stray")
    check_credentials(catalog.get("sendgrid"), key_only)  # ECDSA-only SendGrid ignores a lone client secret


def test_oci_with_a_secret_says_it_needs_basic() -> None:
    from harness.catalog import load_catalog

    with pytest.raises(UsageError, match=r"oci: it needs --basic USER:PASS.*--secret does not apply"):
        check_credentials(load_catalog().get("oci"), Credentials(secret="abc"))


def test_provider_override_typo_names_the_config_file(tmp_path: Path) -> None:
    path = _config(tmp_path, "[providers.github]\ntimeout = 10\ntimeot = 3\n")
    config = resolve_run_config(BASE, config_path=str(path), env={})
    with pytest.raises(HarnessError) as info:
        config.resolved_catalog()
    assert str(path) in str(info.value) and "timeot" in str(info.value)


def test_load_config_rejects_unknown_keys_listing_the_known_ones(tmp_path: Path) -> None:
    path = _config(tmp_path, "colour = 1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'colour'. Known keys: .*probe_url"):
        load_config(path)


def test_cli_max_examples_zero_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "github", "http://127.0.0.1:9/x", "--secret", "abcdef", "--max-examples", "0"]) == 2
    err = capsys.readouterr().err
    assert "--max-examples" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_signing_key_given_as_pem_text_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 16: a key from WEBHOOK_HARNESS_SIGNING_KEY (PEM text, not a path) was printed whole in the error.
    body = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnotarealkeyatall"
    pem = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    monkeypatch.setenv("WEBHOOK_HARNESS_SIGNING_KEY", pem)
    assert main(["check", "sendgrid", "http://127.0.0.1:9/x"]) == 2
    captured = capsys.readouterr()
    assert "notarealkey" not in captured.err + captured.out
    assert "PEM text" in captured.err and len(captured.err.strip().splitlines()) == 1
    creds = Credentials(signing_key=pem)
    assert any("notarealkey" in s for s in creds.secrets())


def test_a_signing_key_given_as_pem_text_signs() -> None:
    from harness.catalog import load_catalog
    from harness.signing import sign_delivery
    from harness.signing.keys import generate_keypair
    from harness.volume import VolumeGenerator

    pem, _ = generate_keypair()
    provider = load_catalog().get("sendgrid")
    unsigned = next(VolumeGenerator(provider, seed=1).deliveries(1))
    signed = sign_delivery(provider, unsigned, Credentials(signing_key=pem.decode()))
    assert signed.header("X-Twilio-Email-Event-Webhook-Signature")
