"""Hostile --schemas folders: each is refused by the loader with one line, and generation stays small."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.errors import SchemaLoadError

BUILTIN = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA = "events/customer_created.schema.json"


def _user_stripe(tmp_path: Path, schema: Any = None, **profile: Any) -> Path:
    """A --schemas folder with a copy of stripe, one event schema replaced and profile keys overridden."""
    root = tmp_path / "schemas"
    shutil.copytree(BUILTIN / "stripe", root / "stripe")
    if schema is not None:
        (root / "stripe" / SCHEMA).write_text(json.dumps(schema), encoding="utf-8")
    if profile:
        path = root / "stripe" / "profile.json"
        raw = json.loads(path.read_text(encoding="utf-8"))
        for key, value in profile.items():
            if key == "event_schema":
                raw["events"]["customer.created"]["schema"] = value
            elif key == "event_sample":
                raw["events"]["customer.created"]["samples"] = [value]
            else:
                raw[key] = value
        path.write_text(json.dumps(raw), encoding="utf-8")
    return root


def _refused(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["providers", "--schemas", str(root)]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"$ref": "missing.schema.json"}, "does not resolve"),
        ({"$ref": "#/$defs/nothing"}, "does not resolve"),
        ({"$ref": "https://example.invalid/evil.schema.json"}, "never fetched"),
        ({"$ref": "file:///etc/passwd"}, "never fetched"),
        ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, "cycle"),
        ({"$ref": "#"}, "cycle"),
        ({"type": "string", "minLength": 2_000_000_000}, "minLength"),
        ({"type": "array", "minItems": 10**9, "items": {}}, "minItems"),
        ({"type": "string", "pattern": "^a{1000000000}$"}, "at least 1,000,000,000 characters"),
        ({"type": "string", "pattern": "^(a{1000}){1000}$"}, "at least 1,000,000 characters"),
        ({"type": "string", "pattern": "^(unclosed$"}, "is not a 'regex'"),
    ],
)
def test_bad_schema_refused(tmp_path: Path, schema: Any, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert says in _refused(_user_stripe(tmp_path, schema), capsys)


def test_a_schema_refused_once_is_refused_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The meta-schema check remembers only files that passed: a second read of a bad folder refuses it again."""
    root = _user_stripe(tmp_path, {"type": "string", "pattern": "^(unclosed$"})
    first = _refused(root, capsys)
    assert "is not a 'regex'" in first and _refused(root, capsys) == first


def test_a_100000_deep_json_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _user_stripe(tmp_path)
    (root / "stripe" / SCHEMA).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nested more than" in _refused(root, capsys)


def test_a_deep_sample_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _user_stripe(tmp_path)
    (root / "stripe" / "samples" / "customer_created.json").write_text('{"a":' * 5000 + "1" + "}" * 5000)
    assert "nested more than" in _refused(root, capsys)


@pytest.mark.parametrize("key", ["event_schema", "event_sample"])
@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside.json", "events/../../escape.json"])
def test_paths_stay_in_the_provider_folder(
    tmp_path: Path, key: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outside.json").write_text("{}", encoding="utf-8")
    assert "outside the provider folder" in _refused(_user_stripe(tmp_path, **{key: target}), capsys)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _user_stripe(tmp_path)
    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "object"}', encoding="utf-8")
    link = root / "stripe" / SCHEMA
    link.unlink()
    link.symlink_to(secret)
    assert "outside the provider folder" in _refused(root, capsys)


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"timeout": "99999999999d"}, "timeout"),
        ({"timeout": "nan"}, "timeout"),
        ({"retry": {"window": "99999999999d"}}, "retry.window"),
        ({"retry": {"backoff": {"delays": ["1m", "99999999999d"]}}}, "retry.backoff.delays[1]"),
    ],
)
def test_profile_durations_are_bounded(override: dict[str, Any], says: str) -> None:
    with pytest.raises(SchemaLoadError, match=r"stripe.*" + says.replace("[", r"\[").replace("]", r"\]")):
        load_catalog(overrides={"stripe": override})


def test_huge_bounded_repeats_generate_small_values(tmp_path: Path) -> None:
    from hypothesis import given, settings

    from harness.strategies import deliveries

    schema = {
        "type": "object",
        "required": ["id", "object", "data"],
        "properties": {
            "id": {"type": "string", "pattern": "^evt_a{0,1000000000}$"},
            "object": {"const": "event"},
            "data": {"type": "string", "maxLength": 2_000_000_000},
        },
    }
    catalog = load_catalog(_user_stripe(tmp_path, schema))
    sizes: list[int] = []

    @settings(max_examples=20, database=None, deadline=None)
    @given(deliveries("stripe", event="customer.created", catalog=catalog))
    def draw(delivery: Any) -> None:
        sizes.append(len(delivery.body))

    draw()
    assert sizes and max(sizes) < 100_000


def test_catastrophic_pattern_is_refused_within_a_time_limit(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^(a|aa)+$"}}}
    provider = load_catalog(_user_stripe(tmp_path, schema)).get("stripe")
    errors = provider.schema_errors("customer.created", {"id": "a" * 5000 + "b"})
    assert errors and "took over" in errors[0]
    assert provider.schema_errors("customer.created", {"id": "aaaa"}) == []
    assert "does not match" in provider.schema_errors("customer.created", {"id": "b"})[0]


def test_reference_receiver_rejects_a_catastrophic_match_without_stalling(tmp_path: Path) -> None:
    """The reference receiver validates with the same time-limited matcher: 400 at once, and it keeps serving."""
    import requests

    from harness.deliveries import build_delivery
    from harness.receiver import ReferenceReceiver
    from harness.signing import sign_delivery

    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^(a|aa)+$"}}}
    provider = load_catalog(_user_stripe(tmp_path, schema)).get("stripe")
    sample = dict(provider.event("customer.created").samples[0])
    with ReferenceReceiver(provider) as rx:
        for value, status in (("a" * 20_000 + "!", 400), ("aaaa", 200)):
            body = {**sample, "id": value}
            d = sign_delivery(
                provider, build_delivery(provider, body, event_types=["customer.created"]), rx.credentials
            )
            reply = requests.post(rx.url, data=d.body, headers=d.headers, timeout=10)
            assert reply.status_code == status, reply.text
            if status == 400:
                assert "took over" in reply.text


def test_recursive_schemas_load_generate_and_validate_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Optional self-reference is fine (and resolves without an $id); a required one has no finite value: refused."""
    from harness.receiver._schemas import first_error as _first_error
    from harness.volume import VolumeGenerator

    node = {"type": "object", "required": ["id", "object"], "properties": {"id": {"type": "string"}}}
    optional = {**node, "properties": {**node["properties"], "object": {"const": "event"}, "child": {"$ref": "#"}}}
    provider = load_catalog(_user_stripe(tmp_path / "ok", optional)).get("stripe")
    assert all(d.body for d in VolumeGenerator(provider, seed=1).deliveries(20, "customer.created"))
    deep: dict[str, Any] = {"id": "x", "object": "event"}
    for _ in range(2000):
        deep = {"id": "x", "object": "event", "child": deep}
    assert _first_error(provider, "customer.created", deep) is not None  # a 400 reason, not a RecursionError
    required = {**optional, "required": ["id", "object", "child"]}
    assert "no finite value" in _refused(_user_stripe(tmp_path / "bad", required), capsys)
