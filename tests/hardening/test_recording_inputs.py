"""Hostile recordings for `replay` and `drift`: one line and exit 2, or escaped output; never a traceback or a hang."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.receiver import ReferenceReceiver

SECRET = "It's a Secret to Everybody"


@pytest.fixture(scope="module")
def github() -> Iterator[ReferenceReceiver]:
    from harness.credentials import Credentials

    with ReferenceReceiver("github", credentials=Credentials(secret=SECRET)) as rx:
        yield rx


def _record(**overrides: object) -> dict[str, object]:
    body = json.dumps({"action": "opened", "issue": {"id": 1}})
    record: dict[str, object] = {
        "provider": "github",
        "method": "POST",
        "path": "/hook",
        "query": "",
        "headers": {"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1"},
        "body": body,
        "received_at": "",
        "verified": None,
    }
    record.update(overrides)
    return record


def _file(tmp_path: Path, *records: dict[str, object] | str, name: str = "rec.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, (code, captured.err)
    return lines[0]


def _replay(path: Path, url: str, *extra: str) -> list[str]:
    return ["replay", str(path), url, "--secret", SECRET, "--settle", "0", *extra]


def test_deep_json_in_a_recording_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = (
        '{"provider": "github", "method": "POST", "path": "/", "headers": {}, "body": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )
    path = _file(tmp_path, deep)
    assert "nested too deeply" in _one_line(_replay(path, "http://127.0.0.1:9/"), capsys)


def test_deep_json_in_a_har_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.har"
    path.write_text('{"log": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert "nested too deeply" in _one_line(_replay(path, "http://127.0.0.1:9/", "--provider", "github"), capsys)


@pytest.mark.parametrize("url", ["http://[::1/hook", "http://[zz]/x", "http://h:99999/x"])
def test_a_malformed_url_in_a_har_file_is_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = {"log": {"entries": [{"request": {"method": "POST", "url": url, "headers": []}}]}}
    path = tmp_path / "x.har"
    path.write_text(json.dumps(har), encoding="utf-8")
    assert "request.url is not a URL" in _one_line(_replay(path, "http://127.0.0.1:9/", "--provider", "github"), capsys)


def test_an_empty_recording_does_not_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, _record(method="GET"))
    assert "Nothing to replay" in _one_line(_replay(path, "http://127.0.0.1:9/"), capsys)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "Nothing to replay" in _one_line(_replay(empty, "http://127.0.0.1:9/", "--provider", "github"), capsys)


def test_a_non_latin1_header_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues\udce9", "X-GitHub-Delivery": "d"}
    path = _file(tmp_path, _record(headers=headers))
    assert "not Latin-1" in _one_line(_replay(path, "http://127.0.0.1:9/"), capsys)


def test_lone_surrogates_and_terminal_escapes_are_printed_escaped(
    tmp_path: Path, github: ReferenceReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"action": "opened\x1b]0;x\x07", "issue": {"id": 1, "title": "\ud800"}})
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d\x1b[2J"}
    path = tmp_path / "rec.jsonl"
    record = _record(body=body, headers=headers)
    path.write_text(json.dumps(record) + "\n")
    code = main(_replay(path, github.url, "--report", str(tmp_path / "r.json")))
    captured = capsys.readouterr()
    assert code in (0, 1) and "Traceback" not in captured.err
    assert "\x1b" not in captured.out + captured.err and "\\x1b[2J" in captured.out
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["sent"] == 1


def test_duplicates_are_streamed_not_materialised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.catalog import load_catalog
    from harness.recording import ReplayOptions, read_records
    from harness.recording._replay import stream_plan

    path = _file(tmp_path, _record())
    github = load_catalog().get("github")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    plan, _, total = stream_plan(github, list(read_records(path)), ReplayOptions(duplicates=10**9))
    first = [next(plan) for _ in range(3)]
    assert total == 10**9 and [p.copy for p in first] == [1, 2, 3]
    assert time.monotonic() - started < 2 and resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000
    err = _one_line(_replay(path, "http://127.0.0.1:9/", "--duplicates", "1000000000", "--order", "shuffle"), capsys)
    assert "streamed" in err


def test_replay_never_forwards_a_credential_it_did_not_sign(tmp_path: Path) -> None:
    from harness.catalog import load_catalog
    from harness.credentials import Credentials
    from harness.recording import ReplayOptions, read_records, replay
    from tests.recording._helpers import CapturingTransport

    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-1",
        "X-Api-Key": "k-1",
        "X-Auth-Token": "t-2",
        "Private-Token": "p-3",
        "X-Gitlab-Token": "g-4",
        "X-Shopify-Access-Token": "s-5",
        "Authorization ": "Bearer b-6",
    }
    path = _file(tmp_path, _record(headers=headers))
    transport = CapturingTransport()
    github = load_catalog().get("github")
    with ReferenceReceiver(github, credentials=Credentials(secret=SECRET)) as rx:
        result = replay(
            github,
            list(read_records(path)),
            rx.url,
            Credentials(secret=SECRET),
            ReplayOptions(settle=0),
            transport=transport,
        )
    (sent,) = transport.sent
    assert set(sent.headers) >= {"X-GitHub-Delivery", "X-Hub-Signature-256"}
    assert not {"X-Api-Key", "X-Auth-Token", "Private-Token", "X-Gitlab-Token", "X-Shopify-Access-Token"} & set(
        sent.headers
    )
    assert not any(name.strip().lower() == "authorization" for name in sent.headers)
    assert result.total == 1


def test_drift_output_escapes_peer_strings_and_propose_keeps_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"action": "opened", "issue": {"id": 1}, "\x1b[31mnew": 1})
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "\x1b]0;evil\x07", "X-GitHub-Delivery": "d"}
    path = _file(tmp_path, _record(body=body), _record(headers=headers))
    existing = tmp_path / "overlay" / "github"
    existing.mkdir(parents=True)
    (existing / "mine.txt").write_text("keep me")
    code = main(["drift", "github", str(path), "--propose", str(tmp_path / "overlay")])
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\\x1b" in captured.out
    assert code == 2 and "--force" in captured.err
    assert (existing / "mine.txt").read_text() == "keep me"


def test_ctrl_c_on_replay_prints_the_partial_summary_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.transport
    from harness.core.models import Reply

    class Interrupted:
        calls = 0

        def send(self, delivery: object, url: str, *, timeout: float) -> Reply:
            Interrupted.calls += 1
            if Interrupted.calls > 2:
                raise KeyboardInterrupt
            return Reply(200, {}, b"{}", 0.01)

        def close(self) -> None:
            pass

    monkeypatch.setattr(harness.transport, "RequestsTransport", lambda **kwargs: Interrupted())
    path = _file(tmp_path, _record())
    report = tmp_path / "r.json"
    code = main(_replay(path, "http://127.0.0.1:9/", "--duplicates", "5", "--report", str(report)))
    out = capsys.readouterr().out
    assert code == 130 and "Interrupted" in out and "2/2 acknowledged" in out
    written = json.loads(report.read_text())
    assert written["interrupted"] is True and written["summary"]["sent"] == 2


def test_repro_hides_every_credential_like_header() -> None:
    from harness.core.models import Delivery
    from harness.repro import curl_command

    headers = {"X-Api-Key": "k-1", "Private-Token": "p-3", "Authorization ": "Bearer b-6", "Idempotency-Key": "i-1"}
    command = curl_command(Delivery("x", "POST", headers, b"{}", (), ()), "http://127.0.0.1/")
    assert not any(secret in command for secret in ("k-1", "p-3", "b-6")) and "i-1" in command
