"""The record format and the HAR 1.2 reader: byte-exact bodies, redaction on disk, one-line errors naming file:line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.recording import Record, RecordWriter, read_records
from tests.recording._helpers import CATALOG

KEYS = {"method", "path", "query", "headers", "received_at", "size", "verified"}


def test_utf8_and_binary_bodies_round_trip_byte_for_byte(tmp_path: Path) -> None:
    text = Record("POST", "/h", {"Content-Type": "application/json"}, '{"a":"é"}'.encode(), received_at="x")
    binary = Record("POST", "/h", {"Content-Type": "application/octet-stream"}, b"\xff\x00\xfe{", verified=False)
    out = tmp_path / "r.jsonl"
    with RecordWriter(out) as writer:
        writer.write(text)
        writer.write(binary)
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert KEYS <= set(lines[0]) and lines[0]["body"] == '{"a":"é"}' and lines[0]["size"] == 10
    assert "body" not in lines[1] and base64.b64decode(lines[1]["body_base64"]) == b"\xff\x00\xfe{"
    assert lines[1]["verified"] is False and lines[0]["verified"] is None
    assert [r.body for r in read_records(out)] == [text.body, binary.body]


def test_auth_headers_are_redacted_on_disk_unless_kept(tmp_path: Path) -> None:
    headers = {
        "Authorization": "Bearer tok-123456",
        "Stripe-Signature": "t=1,v1=abc",
        "X-Hub-Signature-256": "sha256=abc",
        "X-Shopify-Hmac-Sha256": "xyz",
        "Cookie": "session=s3cr3t",
        "X-GitHub-Delivery": "keep-me",
    }
    record = Record("POST", "/", headers, b"{}")
    with RecordWriter(tmp_path / "a.jsonl") as writer:
        writer.write(record)
    stored = json.loads((tmp_path / "a.jsonl").read_text())["headers"]
    assert stored["X-GitHub-Delivery"] == "keep-me"
    assert {k for k, v in stored.items() if v == "***"} == set(headers) - {"X-GitHub-Delivery"}
    with RecordWriter(tmp_path / "b.jsonl", keep_auth=True) as writer:
        writer.write(record)
    assert json.loads((tmp_path / "b.jsonl").read_text())["headers"] == headers


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ('{"method": "POST", "path": "/", "body": "{}"}', "lacks 'headers'"),
        ('{"method": "POST", "path": "/", "headers": {}}', "lacks 'body'"),
        ('{"method": "POST", "path": "/", "headers": {}, "body": "{}", "size": 9}', "'size' is 9"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_a_bad_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"method": "POST", "path": "/", "headers": {}, "body": "{}"})
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(HarnessError) as info:
        list(read_records(path))
    assert str(info.value).startswith(f"{path}:3: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def _har(entries: list[dict[str, object]]) -> dict[str, object]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}


def test_har_entries_become_records(tmp_path: Path) -> None:
    body = '{"id":"evt_1","type":"charge.succeeded"}'
    entries = [
        {
            "startedDateTime": "2026-12-01T10:00:00.000Z",
            "request": {
                "method": "POST",
                "url": "https://example.test/hooks/stripe?x=1",
                "headers": [
                    {"name": ":authority", "value": "example.test"},
                    {"name": "Content-Type", "value": "application/json"},
                    {"name": "Content-Length", "value": str(len(body))},
                    {"name": "Stripe-Signature", "value": "t=1,v1=00"},
                ],
                "postData": {"mimeType": "application/json", "text": body},
            },
        },
        {
            "startedDateTime": "2026-12-01T10:00:01.000Z",
            "request": {
                "method": "post",
                "url": "https://example.test/bin",
                "headers": [],
                "postData": {"mimeType": "application/octet-stream", "text": "/wD+", "encoding": "base64"},
            },
        },
    ]
    path = tmp_path / "capture.har"
    path.write_text(json.dumps(_har(entries)), encoding="utf-8")
    first, second = read_records(path)
    assert (first.method, first.path, first.query) == ("POST", "/hooks/stripe", "x=1")
    assert first.body == body.encode() and first.received_at == "2026-12-01T10:00:00.000Z"
    assert dict(first.headers) == {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"}
    assert second.method == "POST" and second.body == b"\xff\x00\xfe"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"log": {"entries": 3}}', "no log.entries list"),
        ('{"log": {"entries": [{"request": {"url": "/"}}]}}', "entry 0: no request with a method"),
        ('{"log": [1,', "not JSON"),
    ],
)
def test_a_har_file_that_is_not_har_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.har"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HarnessError, match=r"not a HAR 1\.2 file") as info:
        list(read_records(path))
    assert message in str(info.value)


@pytest.mark.parametrize("provider", ["sendgrid", "github", "oci"])
def test_generate_format_record_is_the_record_shape(
    tmp_path: Path, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", provider, "-n", "3", "--format", "record", "--seed", "2"]) == 0
    out = tmp_path / "gen.jsonl"
    out.write_text(capsys.readouterr().out, encoding="utf-8")
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert all(KEYS | {"body", "provider"} <= set(row) for row in rows)
    got = list(read_records(out))
    assert len(got) == 3 and all(r.provider == provider and r.size == len(r.body) for r in got)
    assert all(r.method == CATALOG.get(provider).method for r in got)


def test_unreadable_inputs_are_one_line_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"method": "POST", "path": "/", "headers": {}, "body": "caf\xe9"}\n')
    with pytest.raises(HarnessError, match=r"latin\.jsonl:1: not UTF-8 text"):
        list(read_records(latin))
    with pytest.raises(HarnessError, match="Cannot read the recording"):
        list(read_records(tmp_path))
    with pytest.raises(HarnessError, match="Cannot read the recording"):
        list(read_records(tmp_path / "missing.jsonl"))
