"""``read_text``: every input file (catalog, scenario, config, imported spec) fails the same one-line way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.core.files import read_text, write_file


class Bad(Exception):
    """The caller's error class."""


def test_reads_utf8_with_universal_newlines(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_bytes("a = 'é'\r\nb = 1\rc = 2\n".encode())
    assert read_text(path, Bad) == "a = 'é'\nb = 1\nc = 2\n"


@pytest.mark.parametrize(
    ("make", "what", "message"),
    [
        (lambda p: None, "scenario file", "{p}: scenario file not found."),
        (lambda p: p.mkdir(), "file", "{p}: cannot be read ("),
        (lambda p: p.write_bytes(b"\xff\xfe"), "file", "{p}: cannot be read ('utf-8' codec can't decode"),
        (lambda p: p.write_bytes(b"x" * (2 * 1024 * 1024 + 1)), "file", "{p}: over 2 MiB."),
    ],
    ids=["missing", "a-folder", "not-utf8", "too-big"],
)
def test_each_failure_is_the_callers_error_naming_the_file(
    tmp_path: Path, make: Callable[[Path], object], what: str, message: str
) -> None:
    path = tmp_path / "input"
    make(path)
    with pytest.raises(Bad) as caught:
        read_text(path, Bad, what=what, max_bytes=2 * 1024 * 1024)
    assert str(caught.value).startswith(message.format(p=path))
    assert "\n" not in str(caught.value)


def test_write_file_creates_the_folder_and_names_an_unwritable_path(tmp_path: Path) -> None:
    target = write_file(tmp_path / "a" / "b.json", "{}\n", Bad, what="report")
    assert target.read_text(encoding="utf-8") == "{}\n"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Bad, match=r"^Cannot write the timeline to .*file/sub/t\.html: .+\.$"):
        write_file(blocker / "sub" / "t.html", "<html>", Bad, what="timeline")
