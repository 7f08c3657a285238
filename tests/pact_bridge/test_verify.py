"""`pact verify`: consumer pacts judged by Pact's engine against what the catalog's provider really sends."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness import Credentials, sign, verify
from harness.cli import main
from harness.pact import load_pact
from tests.pact_bridge._pacts import signature, type_rule, write

SECRET = "whsec_round_trip_secret"
ROUND_TRIP = {"stripe": ["invoice.paid", "customer.created"], "github": ["push", "ping"], "sendgrid": ["bounce"]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["pact", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("provider", sorted(ROUND_TRIP))
def test_round_trip_export_consumer_test_then_verify(
    provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [arg for event in ROUND_TRIP[provider] for arg in ("--event", event)]
    exported = tmp_path / "exported"
    assert run(capsys, "export", provider, "--consumer", "shop", "--out", str(exported), *events)[0] == 0

    # The consumer's test: each exported message, signed with the test's key, reaches a handler that checks it.
    credentials = _credentials(provider, tmp_path)
    handled: list[str] = []

    def handler(body: Any, metadata: dict[str, Any]) -> None:
        raw = str(body).encode()
        headers = {**{k: str(v) for k, v in metadata.items()}, **sign(provider, raw, credentials)}
        assert verify(provider, raw, headers, credentials)
        handled.append(json.dumps(json.loads(raw))[:20])

    pact = load_pact(exported / f"shop-{provider}.json")
    pact.verify(handler, "Async")
    assert len(handled) == len(ROUND_TRIP[provider])
    published = tmp_path / "published"
    pact.write_file(published)

    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code, out, _ = run(
        capsys, "verify", str(published), "--examples", "6", "--seed", "7", "--report", str(report),
        "--junitxml", str(junit),
    )  # fmt: skip
    assert code == 0, out
    assert out.count("PASS shop -> ") == len(ROUND_TRIP[provider]) and "(6 examples)" in out
    doc = json.loads(report.read_text())
    assert doc["exit_code"] == 0 and doc["summary"] == {"passed": len(ROUND_TRIP[provider]), "failed": 0, "skipped": 0}
    assert sorted(i["event_type"] for i in doc["interactions"]) == sorted(ROUND_TRIP[provider])
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("tests") == str(len(ROUND_TRIP[provider]))


def _credentials(provider: str, tmp_path: Path) -> Credentials:
    if provider != "sendgrid":
        return Credentials(secret=SECRET)
    from harness.signing.keys import generate_keypair

    pem, _ = generate_keypair()
    return Credentials(signing_key=pem.decode())


@pytest.fixture
def hand_written(tmp_path: Path) -> Path:
    """A consumer team's pacts with four expectations the providers do not meet, and one they do."""
    folder = tmp_path / "pacts"
    write(
        folder,
        "billing",
        "stripe",
        {
            "description": "an invoice was paid",
            "body": {"type": "invoice.paid", "account": "acct_1234567890123456", "data": {"object": {"id": "in_1"}}},
            "rules": {"$.account": type_rule(), "$.data.object.id": type_rule()},
        },
        {
            "description": "a charge in a made-up currency",
            "body": {"type": "charge.succeeded", "data": {"object": {"currency": "doubloons"}}},
        },
        {
            "description": "a customer with an event id header",
            "body": {"type": "customer.created"},
            "metadata": {"Stripe-Event-Id": signature("evt_1", "^evt_.+$")},
        },
        {
            "description": "a customer was created",
            "body": {"type": "customer.created", "data": {"object": {"object": "customer"}}},
            "metadata": {"Stripe-Signature": signature("t=1,v1=ab", r"^t=\d+,v1=[0-9a-f]+(,v1=[0-9a-f]+)*$")},
        },
    )
    write(
        folder,
        "ci-bot",
        "github",
        {
            "description": "a deployment review",
            "body": {"action": "approved"},
            "metadata": {"X-GitHub-Event": "code_review"},
        },
    )
    return folder


def test_unmet_expectations_fail_naming_interaction_field_and_reason(
    hand_written: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    code, out, _ = run(capsys, "verify", str(hand_written), "--examples", "8", "--seed", "1", "--report", str(report))
    assert code == 1
    doc = json.loads(report.read_text())
    found = {i["interaction"]: (i["status"], i["findings"]) for i in doc["interactions"]}
    assert found["a customer was created"] == ("passed", [])

    status, findings = found["an invoice was paid"]
    optional = next(finding for finding in findings if finding["field"] == "$.account")
    assert status == "failed"
    assert "stripe may leave it out (optional in its invoice.paid schema)" in optional["reason"]
    assert 0 < optional["examples"] < 8  # Pact saw bodies with and without it

    (currency,) = found["a charge in a made-up currency"][1]
    assert currency["field"] == "$.data.object.currency"
    assert currency["reason"].startswith('"doubloons" is not a value stripe sends (its values: "usd", "eur"')

    (header,) = found["a customer with an event id header"][1]
    assert header == {
        "field": "metadata Stripe-Event-Id",
        "reason": "stripe sends no Stripe-Event-Id header with customer.created",
        "examples": 8,
    }

    (event,) = found["a deployment review"][1]
    assert event["field"] == "metadata X-GitHub-Event"
    assert event["reason"].startswith("github has no event type 'code_review' (it sends: ")

    assert "FAIL billing -> stripe: an invoice was paid\n  - $.account: the consumer requires it" in out
    assert "FAIL ci-bot -> github: a deployment review\n  - metadata X-GitHub-Event: github has no event" in out
    assert "(seed 1)\nJSON report written to" in out


def test_junit_names_each_interaction_with_its_findings(
    hand_written: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    assert (
        run(capsys, "verify", str(hand_written / "ci-bot-github.json"), "--examples", "2", "--junitxml", str(junit))[0]
        == 1
    )
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "a deployment review"
    failure = case.find("failure")
    assert failure is not None and "deployment_review" in (failure.get("message") or "")


def test_provider_option_maps_a_pact_provider_name_onto_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pact = write(
        tmp_path, "shop", "Stripe Payments", {"description": "a paid invoice", "body": {"type": "invoice.paid"}}
    )
    code, _, err = run(capsys, "verify", str(pact))
    assert code == 2 and err.count("\n") == 1 and "--provider" in err
    code, out, _ = run(capsys, "verify", str(pact), "--provider", "stripe", "--examples", "3")
    assert code == 0 and "PASS shop -> Stripe Payments: a paid invoice (3 examples)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No pact file or folder at"),
        ("{not json", "is not JSON"),
        ('{"interactions": []}', "names no provider"),
        ('{"provider": {"name": "stripe"}}', "has no interactions"),
    ],
)
def test_bad_pact_files_are_one_line_usage_errors(
    content: str | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pact.json"
    if content is not None:
        path.write_text(content)
    code, _, err = run(capsys, "verify", str(path))
    assert code == 2 and err.count("\n") == 1 and message in err


def test_an_http_interaction_is_skipped_not_passed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pact import Pact

    pact = Pact("shop", "stripe").with_specification("V4")
    pact.upon_receiving("a GET").with_request("GET", "/").will_respond_with(200)
    (
        pact.upon_receiving("a paid invoice", "Async")
        .with_body(json.dumps({"type": "invoice.paid"}), "application/json")
    )  # fmt: skip
    pact.write_file(tmp_path)
    code, out, _ = run(capsys, "verify", str(tmp_path), "--examples", "2")
    assert code == 0
    assert "SKIP shop -> stripe: a GET (not an asynchronous message (Synchronous/HTTP): webhooks are)" in out


@pytest.mark.parametrize("argv", [["export", "stripe", "--consumer", "shop", "--out", "x"], ["verify", "pacts"]])
def test_without_the_extra_pact_commands_exit_2_naming_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pact", None)  # what an environment without pact-python imports
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == "webhook-harness: error: Pact support needs pact-python 4: pip install 'webhook-harness[pact]'\n"


def test_a_v3_message_pact_is_verified_and_a_fixed_signature_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pact import Pact

    pact = Pact("legacy", "stripe").with_specification("V3")
    (
        pact.upon_receiving("an invoice was paid", "Async")
        .with_body(json.dumps({"type": "invoice.paid"}), "application/json")
        .with_metadata({"Stripe-Signature": "t=1,v1=00"})
    )  # fmt: skip
    pact.write_file(tmp_path)
    assert "messages" in json.loads((tmp_path / "legacy-stripe.json").read_text())
    code, out, _ = run(capsys, "verify", str(tmp_path), "--examples", "3", "--seed", "4")
    assert code == 1
    assert "  - metadata Stripe-Signature: a fixed value; stripe signs each delivery afresh (match it by regex)" in out


def test_pacts_judge_patterns_on_the_whole_value_as_json_schema_does_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "teams"  # Teams' mention pattern (<at>...</at>) is not anchored
    assert run(capsys, "export", "teams", "--consumer", "bot", "--out", str(exported))[0] == 0
    rules = json.dumps(json.loads((exported / "bot-teams.json").read_text())["interactions"])
    assert r"[\\s\\S]*(?:<at>" in rules
    code, out, _ = run(capsys, "verify", str(exported), "--examples", "5", "--seed", "2")
    assert code == 0, out


def test_an_interaction_that_is_not_an_object_or_too_many_examples_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pact.json"
    path.write_text(json.dumps({"provider": {"name": "stripe"}, "interactions": [None]}))
    code, _, err = run(capsys, "verify", str(path))
    assert code == 2 and "interaction 1 is not a JSON object" in err and err.count("\n") == 1
    assert main(["pact", "verify", str(path), "--examples", "1001"]) == 2
    assert "--examples" in capsys.readouterr().err


def test_a_sendgrid_pact_that_expects_every_event_of_a_batch_alike_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = {
        "description": "a batch of bounces",
        "body": [{"event": "bounce", "email": "a@example.com", "reason": "550 no such user"}],
        "rules": {"$": {"matchers": [{"match": "type", "min": 1}]}, "$[*].reason": type_rule()},
    }
    write(tmp_path, "mailer", "sendgrid", message)
    report = tmp_path / "report.json"
    code, _, _ = run(capsys, "verify", str(tmp_path), "--examples", "6", "--seed", "3", "--report", str(report))
    assert code == 1  # SendGrid mixes event types in one batch
    (interaction,) = json.loads(report.read_text())["interactions"]
    assert interaction["event_type"] == "bounce"
    assert any(f["field"].startswith("$[") and f["field"].endswith("].reason") for f in interaction["findings"])


def test_an_interaction_pact_never_judged_is_not_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.pact._verify as engine

    write(tmp_path, "shop", "stripe", {"description": "a paid invoice", "body": {"type": "invoice.paid"}})
    monkeypatch.setattr(engine, "_run_verifier", lambda planned, folder: {"interactionResults": []})
    code, out, _ = run(capsys, "verify", str(tmp_path), "--examples", "3")
    assert code == 1
    assert "FAIL shop -> stripe: a paid invoice\n  - verification: Pact's verifier judged 0 of 3 examples" in out


def test_an_edited_export_that_expects_a_field_sendgrid_may_leave_out_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(capsys, "export", "sendgrid", "--consumer", "mailer", "--event", "bounce", "--out", str(tmp_path))[0] == 0
    )
    path = tmp_path / "mailer-sendgrid.json"
    doc = json.loads(path.read_text())
    doc["interactions"][0]["contents"]["content"][0]["bounce_classification"] = "Invalid Address"
    path.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "verify", str(path), "--examples", "3", "--seed", "1")
    assert code == 1
    assert "  - $: no event in the sendgrid batch matched the consumer's expected bounce event (" in out


def test_a_pending_interaction_reports_its_findings_without_failing_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pact import Pact

    pact = Pact("shop", "stripe").with_specification("V4")
    interaction = pact.upon_receiving("a future event", "Async").set_pending(pending=True)
    interaction.with_body(json.dumps({"type": "invoice.overdue"}), "application/json")
    pact.write_file(tmp_path)
    report = tmp_path / "report.json"
    code, out, _ = run(capsys, "verify", str(tmp_path), "--report", str(report))
    assert code == 0
    assert "FAIL shop -> stripe: a future event (pending: does not fail the run)" in out
    (entry,) = json.loads(report.read_text())["interactions"]
    assert entry["pending"] is True and entry["status"] == "failed" and entry["findings"]
