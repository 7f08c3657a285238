"""`webhook-harness import`: specs shaped like GitHub's, a Svix provider's and Slack's become catalog folders that
the check suite and the reference receiver run against, with every bug still caught."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.credentials import Credentials
from harness.engine.runner import RunConfig, run_checks
from harness.engine.session import Session
from harness.probes.counts import make_probe
from harness.receiver import BUGS, ReferenceReceiver
from tests.test_matrix import SLOW, _Patient, _VirtualClock

SPECS = Path(__file__).parent / "specs"
IMPORTS = {
    "octo": [
        *("openapi", str(SPECS / "github_like.yaml")),
        *("--event-header", "X-Github-Event", "--event-pointer", "/action"),
    ],
    "acme": ["openapi", str(SPECS / "svix_like.json")],
    "chatty": ["asyncapi", str(SPECS / "slack_like.yaml"), "--event-pointer", "/event/type"],
}
SECRETS = {
    "octo": "It's a Secret to Everybody",
    "acme": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "chatty": "8f742231b10e8888abcd99yyyzzz85a5",
}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("imported")
    for pid, args in IMPORTS.items():
        assert main(["import", *args, "--id", pid, "--out", str(folder)]) == 0
    return folder


def _profile(out: Path, pid: str) -> dict[str, Any]:
    return json.loads((out / pid / "profile.json").read_text())  # type: ignore[no-any-return]


def test_github_like_spec_becomes_a_catalog_folder(out: Path) -> None:
    provider = load_catalog(out).get("octo")
    assert set(provider.events) == {"issues.opened", "issues.closed", "ping"}  # event + action: distinct types
    assert provider.event_type.where == "header" and provider.event_type.name == "X-Github-Event"
    assert provider.event_type.action == "/action"
    assert provider.events["issues.opened"].headers == {"X-Github-Event": {"value": "issues"}}
    assert provider.events["ping"].headers == {}  # the header sends the type itself
    assert provider.idempotency_key.name == "X-Github-Delivery"
    assert provider.auth.schemes == ("github",) and provider.auth.hmac["github"].header == "X-Hub-Signature-256"
    profile = _profile(out, "octo")
    assert "X-Hub-Signature-256" not in profile["headers"]  # the scheme adds it
    assert profile["headers"]["User-Agent"] == {"value": "GitHub-Hookshot/123abc"}
    assert "qualified by the body field /action" in profile["assumptions"]["event_type"]
    defs = json.loads((out / "octo" / "defs.schema.json").read_text())["$defs"]
    assert {"simple-user", "issue", "repository"} <= set(defs)  # the other file's schema came along
    closed = defs["webhook-issues-closed"]
    assert closed["properties"]["action"] == {"type": "string", "enum": ["closed"]}  # allOf merged, own value wins
    assert set(closed["required"]) == {"action", "issue", "repository", "sender"}
    for event in provider.events.values():
        for sample in event.samples:
            assert provider.schema_errors(event.name, sample) == []


def test_svix_like_3_0_spec_converts_nullable_example_and_exclusive_bounds(out: Path) -> None:
    provider = load_catalog(out).get("acme")
    assert set(provider.events) == {"invoice.paid", "user.created"}
    assert provider.event_type.where == "body" and provider.event_type.pointer == "/type"
    assert provider.idempotency_key.name == "svix-id"
    spec = provider.auth.hmac["standard"]
    assert (spec.header, spec.timestamp_header, spec.id_header) == ("svix-signature", "svix-timestamp", "svix-id")
    defs = json.loads((out / "acme" / "defs.schema.json").read_text())["$defs"]
    assert defs["Invoice"]["properties"]["memo"]["type"] == ["string", "null"]
    assert defs["Invoice"]["properties"]["id"]["examples"] == ["in_1MtHbELkdIwHu7"]
    assert defs["Money"]["properties"]["amount"] == {"type": "integer", "exclusiveMinimum": 0}
    assert "discriminator" not in defs["InvoicePaidEvent"]
    assert provider.events["invoice.paid"].samples[0]["data"]["total"] == {"amount": 2000, "currency": "usd"}
    assert "samples.user.created" in provider.assumptions  # no example: a generated one, said so


def test_asyncapi_slack_like_document_becomes_a_catalog_folder(out: Path) -> None:
    provider = load_catalog(out).get("chatty")
    assert set(provider.events) == {"app_mention", "reaction_added"}
    assert provider.event_type.pointer == "/event/type" and provider.idempotency_key.pointer == "/event_id"
    assert provider.auth.schemes == ("slack",) and provider.auth.tolerance == 300
    for event in provider.events.values():
        assert provider.schema_errors(event.name, event.samples[0]) == []


def _run(out: Path, pid: str, bug: str | None) -> tuple[set[str], set[str], ReferenceReceiver]:
    catalog = load_catalog(out)
    creds = Credentials(secret=SECRETS[pid])
    delay = SLOW[bug][1] if bug in SLOW else None  # the slow bugs at the matrix's scaled-down timeouts
    with ReferenceReceiver(catalog.get(pid), credentials=creds, bug=bug, catalog=catalog, delay=delay) as rx:
        config = RunConfig(
            provider=pid,
            url=rx.url,
            credentials=creds,
            schemas_dir=str(out),
            probe=make_probe(rx.probe_url),
            seed=99,
            max_examples=6,
            timeout=SLOW[bug][0] if bug in SLOW else None,
        )
        with Session(config) as session:
            ctx, virtual = session.context(), _VirtualClock()
            ctx.clock, ctx.sleep = virtual.clock, virtual.sleep  # the reference receiver stores before it answers
            if bug in SLOW:
                ctx.transport = _Patient(ctx.transport)
            result = run_checks(config, session=session)
    failed = {o.check for o in result.outcomes if o.status in ("failed", "warned", "blocked")}  # caught, any severity
    passed = {o.check for o in result.outcomes if o.status == "passed"}
    return failed, passed, rx


@pytest.mark.parametrize("pid", sorted(IMPORTS))
def test_the_reference_receiver_passes_every_check_for_the_imported_provider(out: Path, pid: str) -> None:
    failed, passed, _ = _run(out, pid, None)
    assert failed == set()
    assert {"accepts-valid", "rejects-missing-auth", "rejects-bad-auth", "rejects-tampered-body"} <= passed


BUG_CASES = [
    (pid, name)
    for pid in sorted(IMPORTS)
    for name in BUGS
    if name not in ("slow", "ignores-handshake", "bad-reply")  # timing, and facts no imported spec has
]


@pytest.mark.parametrize(("pid", "bug"), BUG_CASES, ids=[f"{p}-{b}" for p, b in BUG_CASES])
def test_each_bug_still_fails_exactly_its_checks_for_the_imported_provider(out: Path, pid: str, bug: str) -> None:
    catalog = load_catalog(out)
    provider = catalog.get(pid)
    expected = BUGS[bug].expected_failures(provider, Credentials(secret=SECRETS[pid]))
    if not BUGS[bug].applies_to(provider) or not expected:
        pytest.skip(f"{bug} does not apply to {pid}")
    failed, _, _ = _run(out, pid, bug)
    assert failed == set(expected)


def test_check_through_the_cli_passes_against_the_receiver_with_the_same_schemas(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = load_catalog(out)
    creds = Credentials(secret=SECRETS["acme"])
    with ReferenceReceiver(catalog.get("acme"), credentials=creds, catalog=catalog) as rx:
        args = ["check", "acme", rx.url, "--schemas", str(out), "--secret", SECRETS["acme"]]
        code = main([*args, "--probe-url", rx.probe_url, "--seed", "5", "--max-examples", "5"])
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    assert SECRETS["acme"] not in output.out + output.err


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("nothing.yaml", "swagger: '2.0'\ninfo: {title: x}\n", "not an OpenAPI document"),
        ("no_hooks.yaml", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n", "has no webhooks"),
        ("broken.yaml", "openapi: [3.1\n", "invalid YAML at line"),
        (
            "dangling.yaml",
            "openapi: 3.1.0\ninfo: {title: x, version: '1'}\nwebhooks:\n  a:\n    post:\n      requestBody:\n"
            "        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Nope'}\n",
            "#/webhooks/a/post/requestBody/content/application/json/schema/$ref: unresolved $ref",
        ),
        (
            "remote.yaml",
            "openapi: 3.1.0\ninfo: {title: x, version: '1'}\nwebhooks:\n  a:\n    post:\n      requestBody:\n"
            "        content:\n          application/json:\n            schema: {$ref: 'https://example.com/s.json'}\n",
            "remote $ref 'https://example.com/s.json' is not fetched (pass --allow-remote-refs)",
        ),
    ],
)
def test_bad_specs_exit_2_with_one_line_naming_the_file_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, needle: str
) -> None:
    spec = _write(tmp_path, name, text)
    code = main(["import", "openapi", str(spec), "--id", "x", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and name in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_asyncapi_importer_rejects_an_openapi_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", "asyncapi", str(SPECS / "svix_like.json"), "--id", "x", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "svix_like.json: not an AsyncAPI document" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("description", "needle"),
    [
        ({"header": "X-Sig", "algorithm": "md5"}, "auth/hmac/custom/algorithm: 'md5' is not one of"),
        ({"header": "X-Sig", "encoding": "base32"}, "auth/hmac/custom/encoding: 'base32' is not one of"),
        ({"header": "X-Sig", "content": "{ts}.{body}"}, "auth.hmac.custom.content: unknown field {ts}"),
    ],
)
def test_a_bad_scheme_description_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], description: dict[str, Any], needle: str
) -> None:
    scheme = _write(tmp_path, "custom.json", json.dumps(description))
    args = ["import", "openapi", str(SPECS / "svix_like.json"), "--id", "x", "--out", str(tmp_path / "out")]
    code = main([*args, "--scheme", str(scheme)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "profile.json" in err and err.count("\n") == 1
