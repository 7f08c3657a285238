"""`pact export`: a V4 pact of asynchronous messages whose rules are the provider's schema, in Pact's terms."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.pact import body_contract, export_pact, provider_states, required_only
from harness.pact._metadata import ThrowawaySigner, header_pattern
from harness.pact._rules import ISO_8601

CATALOG = load_catalog()


def export(tmp_path: Path, provider: str, *events: str) -> dict[str, Any]:
    argv = ["pact", "export", provider, "--consumer", "shop", "--out", str(tmp_path)]
    for event in events:
        argv += ["--event", event]
    assert main(argv) == 0
    doc: dict[str, Any] = json.loads((tmp_path / f"shop-{provider}.json").read_text())
    return doc


def matchers(interaction: dict[str, Any], part: str, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = interaction["matchingRules"][part][path]["matchers"]
    return found


@pytest.mark.parametrize("provider", ["stripe", "github", "sendgrid"])
def test_one_async_message_per_event_type_with_docs_event_type_and_signature_shape(
    provider: str, tmp_path: Path
) -> None:
    chosen = CATALOG.get(provider).sampled()  # a large catalog: its default sample (all 259 GitHub types take ~10 s)
    doc = export(tmp_path, provider, *(chosen.ordinary_events if chosen.sample else ()))
    assert doc["metadata"]["pactSpecification"]["version"] == "4.0"
    assert (doc["consumer"]["name"], doc["provider"]["name"]) == ("shop", provider)
    interactions = doc["interactions"]
    assert sorted(i["comments"]["eventType"] for i in interactions) == sorted(chosen.ordinary_events)
    for interaction in interactions:
        event = interaction["comments"]["eventType"]
        assert interaction["type"] == "Asynchronous/Messages"
        assert event in interaction["description"]
        assert interaction["comments"]["references"]["docs"] == {chosen.title: chosen.sources[0]}
        metadata = interaction["metadata"]
        assert metadata["contentType"] == chosen.content_type
        signed = [h for h in metadata if h not in ("contentType", "X-GitHub-Event")]
        assert signed, "the signature header travels in the metadata"
        for header in signed:  # a shape, never a fixed value
            (rule,) = matchers(interaction, "metadata", header)
            assert rule["match"] == "regex" and re.fullmatch(rule["regex"], metadata[header])
        if provider == "github":
            assert metadata["X-GitHub-Event"] == event.partition(".")[0]  # the family; the body's action qualifies
        content = interaction["contents"]["content"]
        assert _event_type(chosen, content[0] if provider == "sendgrid" else content, metadata) == event


def _event_type(provider: Any, body: dict[str, Any], metadata: dict[str, Any]) -> Any:
    where = provider.event_type
    if where.where == "header":
        return provider.qualified_event_type(metadata[where.name], body)
    return body[where.pointer.strip("/")]


def test_rules_follow_the_schema_keywords(tmp_path: Path) -> None:
    doc = export(tmp_path, "stripe", "invoice.paid", "payment_intent.succeeded")
    invoice, intent = sorted(doc["interactions"], key=lambda i: i["comments"]["eventType"] != "invoice.paid")
    assert matchers(invoice, "body", "$.id") == [{"match": "regex", "regex": "^evt_[A-Za-z0-9]{24}$"}]  # pattern
    assert matchers(invoice, "body", "$.created") == [{"match": "integer"}]  # an open value: its type
    currency = matchers(invoice, "body", "$.data.object.currency")  # enum: a regex of its values
    assert currency[0] == {"match": "type"} and currency[1]["regex"].startswith("^(usd|eur|gbp")
    assert matchers(invoice, "body", "$.data.object.lines.data") == [{"match": "type", "min": 0, "max": 5}]
    assert matchers(intent, "body", "$.data.object.payment_method_types") == [{"match": "type", "min": 0, "max": 5}]
    assert invoice["contents"]["content"]["data"]["object"]["paid"] is True  # const (invoice.paid): equality, no rule
    assert "$.data.object.paid" not in invoice["matchingRules"]["body"]
    assert "account" not in invoice["contents"]["content"]  # optional (Connect only): Pact cannot say optional


def test_date_times_are_iso_8601(tmp_path: Path) -> None:
    doc = export(tmp_path, "github", "issues.opened")
    (issues,) = doc["interactions"]
    assert issues["metadata"]["X-GitHub-Event"] == "issues"  # the header names the family
    assert matchers(issues, "body", "$.issue.created_at") == [{"match": "regex", "regex": ISO_8601}]
    assert re.fullmatch(ISO_8601, issues["contents"]["content"]["issue"]["created_at"])


def test_a_batch_provider_is_an_array_containing_an_event_of_the_type(tmp_path: Path) -> None:
    doc = export(tmp_path, "sendgrid", "bounce")
    (bounce,) = doc["interactions"]
    (contains,) = matchers(bounce, "body", "$")
    assert contains["match"] == "arrayContains" and contains["variants"][0]["index"] == 0
    assert contains["variants"][0]["rules"]["$.reason"]["matchers"][0]["match"] == "regex"
    assert bounce["contents"]["content"][0]["event"] == "bounce"


def test_the_body_keeps_only_required_fields_the_schema_can_type() -> None:
    stripe = CATALOG.get("stripe")
    sample = stripe.event("invoice.paid").samples[0]
    contract = body_contract(stripe, "invoice.paid", sample)
    minimal = required_only(stripe, "invoice.paid", sample)
    assert not stripe.schema_errors("invoice.paid", minimal)

    def keys(value: Any, prefix: str = "") -> set[str]:
        if isinstance(value, dict):
            return {f"{prefix}/{k}" for k in value} | {p for k, v in value.items() for p in keys(v, f"{prefix}/{k}")}
        if isinstance(value, list) and value:
            return keys(value[0], prefix + "/0")
        return set()

    assert keys(contract.body) <= keys(minimal)


@pytest.mark.parametrize("provider", sorted(CATALOG.providers))
def test_signature_patterns_accept_real_signatures_and_reject_fixed_text(provider: str) -> None:
    chosen = CATALOG.get(provider)
    event = chosen.ordinary_events[0]
    payload = chosen.event(event).samples[0] if chosen.event(event).samples else {}
    with ThrowawaySigner(chosen) as signer:
        batch = [payload] if chosen.body.shape == "batch" else payload
        headers = [signer.auth_headers(batch, [event]) for _ in range(3)]
    for name, value in headers[0].items():
        pattern = header_pattern(chosen, name, value)
        assert all(re.fullmatch(pattern, h[name]) for h in headers), (name, pattern)
        assert not re.fullmatch(pattern, "not a signature!"), (name, pattern)


def test_provider_states_come_from_lifecycle_steps(tmp_path: Path) -> None:
    stripe = CATALOG.get("stripe")
    steps = [{"event": "customer.created"}, {"event": "invoice.paid", "expect": {"status": "paid"}}]
    with_life = dataclasses.replace(stripe, raw={**stripe.raw, "lifecycles": {"billing": {"steps": steps}}})
    assert provider_states(with_life, "invoice.paid") == [
        ("billing lifecycle, step 2 of 2: invoice.paid", {"status": "paid"})
    ]
    without = dataclasses.replace(stripe, raw={k: v for k, v in stripe.raw.items() if k != "lifecycles"})
    if not getattr(without, "lifecycles", None):
        assert provider_states(without, "invoice.paid") == []
    export_pact(with_life, "shop", tmp_path, ["invoice.paid", "customer.created"])
    doc = json.loads((tmp_path / "shop-stripe.json").read_text())
    states = {i["comments"]["eventType"]: i["providerStates"] for i in doc["interactions"]}
    assert states == {
        "customer.created": [{"name": "billing lifecycle, step 1 of 2: customer.created"}],
        "invoice.paid": [{"name": "billing lifecycle, step 2 of 2: invoice.paid", "params": {"status": "paid"}}],
    }


def test_unknown_event_type_or_provider_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pact", "export", "stripe", "--consumer", "shop", "--event", "invoice.payed", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Unknown event type 'invoice.payed'" in err
    assert main(["pact", "export", "strype", "--consumer", "shop", "--out", str(tmp_path)]) == 2
    assert "Unknown provider 'strype'" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["pact", "export", "stripe", "--consumer", "shop", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["pact", "export", "stripe", "--consumer", " ", "--out", str(tmp_path)]) == 2
    assert "consumer name is empty" in capsys.readouterr().err
    assert main(["pact", "export", "stripe", "--consumer", "../up", "--out", str(tmp_path)]) == 2
    assert "Invalid consumer name '../up'" in capsys.readouterr().err
    assert not (tmp_path.parent / "up-stripe.json").exists()


def _judge(pact_file: Path, bodies: dict[str, Any]) -> dict[str, list[str]]:
    """For each named body, the body paths Pact's own engine rejects when it is sent for the pact's one interaction.

    One verification: the interaction is copied once per body, each copy answered with its body.
    """
    from pact import Verifier

    from harness.pact._support import quiet

    doc = json.loads(pact_file.read_text())
    (interaction,) = doc["interactions"]
    doc["interactions"] = [{**interaction, "description": name} for name in bodies]
    many = pact_file.with_name("many.json")
    many.write_text(json.dumps(doc))
    kind = CATALOG.get("stripe").content_type

    def produce(name: str) -> dict[str, Any]:
        return {"contents": json.dumps(bodies[name]).encode(), "metadata": {"contentType": kind}, "content_type": kind}

    verifier = Verifier("stripe", host="127.0.0.1").message_handler(produce).add_source(many)
    with quiet(), contextlib.suppress(RuntimeError):
        verifier.verify()
    judged = {}
    for result in verifier.results["interactionResults"]:
        found = (result.get("mismatch") or {}).get("mismatches", [])
        assert all(m["type"] in ("BodyMismatch", "MetadataMismatch") for m in found), found
        judged[result["description"]] = sorted({m["path"] for m in found if m["type"] == "BodyMismatch"})
    return judged


def test_the_exported_pact_accepts_what_stripe_may_send_and_nothing_it_never_sends(tmp_path: Path) -> None:
    export(tmp_path, "stripe", "invoice.paid")
    stripe = CATALOG.get("stripe")
    sample = stripe.event("invoice.paid").samples[0]

    def changed(pointer: str, value: Any) -> Any:
        body = json.loads(json.dumps(sample))
        *parents, last = pointer.strip("/").split("/")
        target = body
        for key in parents:
            target = target[key]
        target[last] = value
        return body

    bodies = {
        "sample": sample,
        "required only": required_only(stripe, "invoice.paid", sample),
        "$.api_version": changed("/api_version", "1999-01-01"),  # not in the enum
        "$.id": changed("/id", "evt_short"),  # breaks the pattern
        "$.created": changed("/created", "1700000000"),  # a string for an integer
        "$.data.object.currency": changed("/data/object/currency", "doubloons"),
        "$.data.object.paid": changed("/data/object/paid", False),  # const true
    }
    judged = _judge(tmp_path / "shop-stripe.json", bodies)
    assert judged == {name: [] if name[0] != "$" else [name] for name in bodies}
