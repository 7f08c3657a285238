"""Drift against the catalog: exact path and kind for each hand alteration, silence on unaltered traffic, --propose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.credentials import Redactor
from harness.errors import UsageError
from harness.recording import Record, analyse_drift, read_records, record_of, write_overlay
from tests.recording._helpers import CATALOG, PROVIDERS, unsigned

STRIPE = CATALOG.get("stripe")
SECRET = "sk_live_do_not_print_me_123"


def _write(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(r.to_line() + "\n" for r in records), encoding="utf-8")
    return path


def _stripe_records(n: int = 12, seed: int = 4) -> list[Record]:
    return [record_of(d, path="/", received_at="") for d in unsigned(STRIPE, n, seed=seed, event="charge.succeeded")]


def _altered(record: Record, change: Any) -> Record:
    payload = json.loads(record.body)
    change(payload)
    from dataclasses import replace

    return replace(record, body=STRIPE.encode(payload))


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_unaltered_traffic_reports_nothing(provider_id: str) -> None:
    provider = CATALOG.get(provider_id)
    recs = [record_of(d, path="/", received_at="") for d in unsigned(provider, 15, seed=2)]
    report = analyse_drift(provider, recs)
    assert report.exit_code == 0 and report.violation_count == 0
    assert not report.unknown and all(not e.violations and not e.added for e in report.events.values())
    assert sum(e.count for e in report.events.values()) >= 15


def _drifted() -> list[Record]:
    recs = _stripe_records()

    def drop_livemode(p: dict[str, Any]) -> None:
        del p["data"]["object"]["livemode"]

    def new_api_version(p: dict[str, Any]) -> None:
        p["api_version"] = "2099-01-01"

    def amount_as_text(p: dict[str, Any]) -> None:
        p["data"]["object"]["amount"] = str(p["data"]["object"]["amount"])

    def new_event_type(p: dict[str, Any]) -> None:
        p["type"] = "charge.teleported"

    def added_field(p: dict[str, Any]) -> None:
        p["data"]["object"]["risk_score"] = 42
        p["data"]["object"]["api_secret"] = SECRET

    return [
        _altered(recs[0], drop_livemode),
        _altered(recs[1], drop_livemode),
        _altered(recs[2], new_api_version),
        _altered(recs[3], amount_as_text),
        _altered(recs[4], new_event_type),
        _altered(recs[5], added_field),
        *recs[6:],
    ]


def test_each_alteration_is_named_by_path_and_kind() -> None:
    report = analyse_drift(STRIPE, _drifted(), redact=Redactor([SECRET]))
    charge = report.events["charge.succeeded"]
    found = {(f.path, f.kind): f.count for f in charge.violations.values()}
    assert found == {
        ("/data/object/livemode", "missing-required"): 2,
        ("/api_version", "enum-value"): 1,
        ("/data/object/amount", "type-changed"): 1,
    }
    assert charge.count == 11 and charge.valid == 7
    assert list(report.unknown) == ["charge.teleported"] and report.unknown["charge.teleported"].count == 1
    assert set(charge.added) == {"/data/object/risk_score", "/data/object/api_secret"}
    assert report.exit_code == 1
    assert charge.violations[("/api_version", "enum-value")].example == '"2099-01-01"'
    text = report.render() + json.dumps(report.to_json())
    assert SECRET not in text and "/data/object/livemode" in text


def test_added_fields_and_new_event_types_are_information_unless_strict() -> None:
    recs = _drifted()
    informational = [recs[4], recs[5], *recs[6:]]
    assert analyse_drift(STRIPE, informational).exit_code == 0
    assert analyse_drift(STRIPE, informational, strict=True).exit_code == 1


def test_propose_writes_an_overlay_that_accepts_the_traffic(tmp_path: Path) -> None:
    recs = _drifted()
    redact = Redactor([SECRET])
    report = analyse_drift(STRIPE, recs, redact=redact)
    changed = write_overlay(STRIPE, report, tmp_path / "overlay", redact)
    assert changed
    for path in (tmp_path / "overlay").rglob("*.json"):
        assert SECRET not in path.read_text("utf-8")
    widened = load_catalog(tmp_path / "overlay").get("stripe")
    again = analyse_drift(widened, recs)
    assert again.exit_code == 0 and again.violation_count == 0, again.render()
    assert not again.unknown and not any(e.added for e in again.events.values())
    schema = json.loads((tmp_path / "overlay/stripe/events/charge_succeeded.schema.json").read_text())
    assert "2099-01-01" in schema["properties"]["api_version"]["enum"]
    other = load_catalog().get("stripe").events["charge.succeeded"].schema
    assert "2099-01-01" not in other["properties"]["api_version"]["enum"]  # the built-in catalog is untouched


def test_drift_over_refs_into_defs_and_batches(tmp_path: Path) -> None:
    sendgrid = CATALOG.get("sendgrid")
    recs = [record_of(d, path="/", received_at="") for d in unsigned(sendgrid, 6, seed=8, event="delivered")]
    payload = json.loads(recs[0].body)
    payload[0]["sg_event_id"] = 12345
    from dataclasses import replace

    recs[0] = replace(recs[0], body=sendgrid.encode(payload))
    report = analyse_drift(sendgrid, recs)
    assert {(f.path, f.kind) for f in report.events["delivered"].violations.values()} == {
        ("/sg_event_id", "type-changed")
    }
    write_overlay(sendgrid, report, tmp_path / "o", Redactor())
    widened = load_catalog(tmp_path / "o").get("sendgrid")
    assert analyse_drift(widened, recs).exit_code == 0


def test_drift_cli_exit_codes_report_and_propose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = _write(tmp_path / "clean.jsonl", _stripe_records(5))
    assert main(["drift", "stripe", str(clean)]) == 0
    drifted = _write(tmp_path / "drift.jsonl", _drifted())
    capsys.readouterr()
    argv = ["drift", "stripe", str(drifted), "--report", str(tmp_path / "r.json"), "--propose", str(tmp_path / "p")]
    assert main([*argv, "--secret", SECRET]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION missing-required" in out and "/data/object/livemode" in out
    assert "unknown event type 'charge.teleported'" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_code"] == 1 and SECRET not in json.dumps(report)
    assert main(["drift", "stripe", str(drifted), "--schemas", str(tmp_path / "p")]) == 0


def test_drift_reads_har_and_flags_bodies_that_are_not_json(tmp_path: Path) -> None:
    har = {
        "log": {
            "version": "1.2",
            "entries": [
                {"request": {"method": "POST", "url": "http://x/h", "headers": [], "postData": {"text": "nope"}}},
                {
                    "request": {
                        "method": "POST",
                        "url": "http://x/h",
                        "headers": [],
                        "postData": {"text": _stripe_records(1)[0].body.decode()},
                    }
                },
            ],
        }
    }
    path = tmp_path / "t.har"
    path.write_text(json.dumps(har))
    report = analyse_drift(STRIPE, read_records(path))
    assert report.deliveries == 2 and len(report.unreadable) == 1 and report.exit_code == 1


def test_pattern_mismatch_is_named_and_relaxed_by_propose(tmp_path: Path) -> None:
    recs = _stripe_records(3)

    def new_id_shape(p: dict[str, Any]) -> None:
        p["id"] = "event-2026-000001"

    recs[0] = _altered(recs[0], new_id_shape)
    report = analyse_drift(STRIPE, recs)
    assert [(f.path, f.kind) for f in report.events["charge.succeeded"].violations.values()] == [
        ("/id", "pattern-mismatch")
    ]
    write_overlay(STRIPE, report, tmp_path / "o", Redactor())
    assert analyse_drift(load_catalog(tmp_path / "o").get("stripe"), recs).exit_code == 0


def test_deliveries_that_failed_verification_are_left_out() -> None:
    from dataclasses import replace

    recs = _drifted()
    marked = [replace(r, verified=False) if i < 4 else r for i, r in enumerate(recs)]
    report = analyse_drift(STRIPE, marked)
    assert report.forged == 4 and report.exit_code == 0 and "4 that failed verification left out" in report.render()


def test_propose_again_over_its_own_overlay(tmp_path: Path) -> None:
    recs = _drifted()
    first = analyse_drift(STRIPE, recs)
    write_overlay(STRIPE, first, tmp_path / "o", Redactor())
    widened = load_catalog(tmp_path / "o").get("stripe")
    more = [*recs, _altered(_stripe_records(1, seed=30)[0], lambda p: p.update(livemode="yes"))]
    second = analyse_drift(widened, more)
    assert [(f.path, f.kind) for f in second.events["charge.succeeded"].violations.values()] == [
        ("/livemode", "type-changed")
    ]
    with pytest.raises(UsageError, match="--force"):  # never replaced without asking
        write_overlay(widened, second, tmp_path / "o", Redactor())
    write_overlay(widened, second, tmp_path / "o", Redactor(), force=True)  # the overlay is both source and target
    from harness.catalog._loader import _load_cached

    _load_cached.cache_clear()  # the same folder again: load what is on disk now
    assert analyse_drift(load_catalog(tmp_path / "o").get("stripe"), more).exit_code == 0


def test_format_mismatch_through_a_ref_is_named_and_relaxed(tmp_path: Path) -> None:
    from dataclasses import replace

    sendgrid = CATALOG.get("sendgrid")
    recs = [record_of(d, path="/", received_at="") for d in unsigned(sendgrid, 4, seed=8, event="delivered")]
    payload = json.loads(recs[0].body)
    payload[0]["email"] = "not-an-address"
    recs[0] = replace(recs[0], body=sendgrid.encode(payload))
    report = analyse_drift(sendgrid, recs)
    (finding,) = report.events["delivered"].violations.values()
    assert (finding.path, finding.kind, finding.example) == ("/email", "format-mismatch", '"not-an-address"')
    write_overlay(sendgrid, report, tmp_path / "o", Redactor())
    assert analyse_drift(load_catalog(tmp_path / "o").get("sendgrid"), recs).exit_code == 0
    defs = json.loads((tmp_path / "o/sendgrid/defs.schema.json").read_text())
    assert defs["$defs"]["email"]["format"] == "email"  # the shared definition is untouched; the event inlined it
