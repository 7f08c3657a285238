"""Hostile specs for `import`: local files stay local, bombs are refused in one line, output whole or not at all."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

SECRET = "AKIA-SUPER-SECRET-CREDENTIALS"


def _spec(body: Any, *, example: Any = None) -> dict[str, Any]:
    """A minimal OpenAPI 3.1 spec with one Standard Webhooks event whose body schema is ``body``."""
    media: dict[str, Any] = {"schema": body}
    if example is not None:
        media["example"] = example
    return {
        "openapi": "3.1.0",
        "info": {"title": "Evil", "version": "1"},
        "webhooks": {
            "thing.happened": {
                "post": {
                    "parameters": [
                        {"name": "webhook-id", "in": "header", "schema": {"type": "string"}},
                        {"name": "webhook-signature", "in": "header", "schema": {"type": "string"}},
                    ],
                    "requestBody": {"content": {"application/json": media}},
                }
            }
        },
    }


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["import", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.strip()


def _one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, err = _run(args, capsys)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert SECRET not in err
    return err


def _write(folder: Path, doc: Any, name: str = "spec.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(doc) if name.endswith(".json") else doc, encoding="utf-8")
    return path


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "home" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"type": "string", "const": SECRET}), encoding="utf-8")
    return outside


def _body_with(ref: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"type": {"const": "thing.happened"}, "leak": {"$ref": ref}}}


@pytest.mark.parametrize("how", ["absolute", "dotdot", "file-url"])
def test_a_ref_outside_the_spec_folder_is_refused_naming_it(
    tmp_path: Path, secret_file: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    ref = {"absolute": str(secret_file), "dotdot": "../home/creds.json", "file-url": secret_file.as_uri()}[how]
    spec = _write(tmp_path / "vendor", _spec(_body_with(ref)))
    out = tmp_path / "catalog"
    err = _one_line(["openapi", str(spec), "--id", "evil", "--out", str(out)], capsys)
    assert repr(ref) in err and "refused" in err
    assert not (out / "evil").exists()
    assert not out.exists() or SECRET not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())


def test_allow_local_refs_widens_the_confinement(
    tmp_path: Path, secret_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path / "vendor", _spec(_body_with("../home/creds.json")))
    out = tmp_path / "catalog"
    args = ["openapi", str(spec), "--id", "evil", "--out", str(out), "--event-pointer", "/type"]
    code, err = _run([*args, "--allow-local-refs", str(secret_file.parent)], capsys)
    assert code == 0, err
    assert (out / "evil" / "profile.json").is_file()


def test_a_billion_laughs_yaml_spec_is_refused_in_bounded_time_and_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["openapi: 3.1.0", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    spec = _write(tmp_path, "\n".join(lines) + "\n", "laughs.yaml")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    err = _one_line(["openapi", str(spec), "--id", "evil", "--out", str(tmp_path / "out")], capsys)
    assert time.monotonic() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300 * 1024  # KiB: under 300 MB grown
    assert "aliases" in err


def test_a_deeply_nested_spec_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "deep.json"
    spec.write_text('{"openapi": "3.1.0", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    err = _one_line(["openapi", str(spec), "--id", "evil", "--out", str(tmp_path / "out")], capsys)
    assert "nested" in err


def test_an_endless_spec_is_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    err = _one_line(["openapi", "/dev/zero", "--id", "evil", "--out", str(tmp_path / "out")], capsys)
    assert "MiB" in err and time.monotonic() - started < 10


def test_a_backtracking_pattern_does_not_hang_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = {
        "type": "object",
        "properties": {"type": {"const": "thing.happened"}, "name": {"type": "string", "pattern": "^(a+)+$"}},
        "required": ["type"],
    }
    spec = _write(tmp_path / "vendor", _spec(body, example={"type": "thing.happened", "name": "a" * 40 + "!"}))
    started = time.monotonic()
    code, err = _run(["openapi", str(spec), "--id", "slow", "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert time.monotonic() - started < 20


def test_an_existing_folder_is_kept_without_force_and_a_failed_import_leaves_it_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"type": "object", "properties": {"type": {"const": "thing.happened"}}, "required": ["type"]}
    spec = _write(tmp_path / "vendor", _spec(good))
    out = tmp_path / "out"
    args = ["openapi", str(spec), "--id", "acme", "--out", str(out)]
    assert _run(args, capsys)[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "--force" in _one_line(args, capsys)
    bad = _write(tmp_path / "vendor", _spec({"$ref": "#/nowhere"}), "bad.json")
    _one_line(["openapi", str(bad), "--id", "acme", "--out", str(out), "--force"], capsys)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no half-written folder, no scratch left behind
    assert [p.name for p in out.iterdir()] == ["acme"]
    assert _run([*args, "--force"], capsys)[0] == 0
    assert [p.name for p in out.iterdir()] == ["acme"]


def test_one_long_string_repeated_through_aliases_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["openapi: 3.1.0", f"s: &s {'x' * 100_000}", "a: &a [" + ", ".join(["*s"] * 1000) + "]"]
    lines.append("b: [" + ", ".join(["*a"] * 1000) + "]")  # 100 GB of text once expanded, 1 MB on disk
    spec = _write(tmp_path, "\n".join(lines) + "\n", "long.yaml")
    started = time.monotonic()
    err = _one_line(["openapi", str(spec), "--id", "evil", "--out", str(tmp_path / "out")], capsys)
    assert "MiB of text" in err and time.monotonic() - started < 10
