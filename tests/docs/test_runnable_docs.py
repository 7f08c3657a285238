"""Every shell example in README.md and docs/ that is marked runnable runs, exits as shown and prints what is shown.

The marker is an HTML comment on the line before a ```console block (invisible on GitHub):

    <!-- runnable -->                                   every command exits 0
    <!-- runnable exit=1 -->                            the last command exits 1 (the others 0)
    <!-- runnable receiver=slack bug=NAME secret=TEXT --> a reference receiver for the block, stopped after it

Lines starting with ``$ `` are commands, run in order by one bash (so ``export`` carries over) in a scratch folder
that links those of the repository's ``scenarios/``, ``schemas/`` and ``examples/`` that the commands name as paths
(a block that says "in any folder, even an empty one" runs in an empty one). With a receiver, ``127.0.0.1:8765`` in
a command is its real address. The other lines are the output shown: each must appear, in order, in the real output,
compared with every number as 0, every quoted string as "", a folder path as "/", runs of spaces as one and
pytest's rules of = or - as three; a line holding ``...`` or
``…`` is compared up to that elision, and a line that is only ``...`` stands for any output.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MARKER = re.compile(r"^<!--\s*runnable\b(?P<options>[^>]*?)-->\s*$")
PLACEHOLDER_PORT = "127.0.0.1:8765"
TIMEOUT = 180  # seconds for one block, all its commands together


@dataclass
class Block:
    """One runnable console block."""

    path: Path
    line: int
    options: dict[str, str]
    commands: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def runnable_blocks(path: Path) -> Iterator[Block]:
    """The marked console blocks of one Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, text in enumerate(lines):
        found = MARKER.match(text.strip())
        if not found:
            continue
        if index + 1 >= len(lines) or lines[index + 1].strip() != "```console":
            raise AssertionError(f"{path}:{index + 1}: the runnable marker must sit right above a ```console block")
        options = dict(item.split("=", 1) for item in shlex.split(found.group("options")))
        block = Block(path, index + 1, options)
        for body in lines[index + 2 :]:
            if body.strip() == "```":
                break
            if body.startswith("$ "):
                block.commands.append(body[2:])
            elif body.strip():
                block.expected.append(body)
        yield block


BLOCKS = [block for path in DOCS for block in runnable_blocks(path)]


def _normal(text: str) -> str:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    text = re.sub(r"[0-9]+", "0", text)
    text = re.sub(r"[=-]{3,}", "===", text)  # pytest pads its rules to the terminal width
    text = re.sub(r"(/[\w.-]+)+/", "/", text)  # a scratch folder's path differs per run
    return re.sub(r"\s+", " ", text).strip()


def _pattern(line: str) -> str | None:
    """The normalised prefix a shown output line must match, or None for a bare elision."""
    cut = min((i for i in (line.find("..."), line.find("…")) if i >= 0), default=-1)
    head = line if cut < 0 else line[:cut]
    return _normal(head) or None


def missing_lines(expected: list[str], actual: str) -> list[str]:
    """The shown lines that do not appear, in order, in the real output."""
    real = [_normal(line) for line in actual.splitlines()]
    position, missing = 0, []
    for line in expected:
        want = _pattern(line)
        if want is None:
            continue
        for index in range(position, len(real)):
            if real[index].startswith(want):
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


def _scratch(tmp_path: Path, block: Block) -> Path:
    """The block's folder: empty but for links to the repository folders its commands name as paths."""
    for name in ("scenarios", "schemas", "examples"):
        if any(re.search(rf"(?:^|[\s'\"=]){name}/", command) for command in block.commands):
            (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _script(commands: list[str], address: str | None) -> str:
    lines = [command.replace(PLACEHOLDER_PORT, address) if address else command for command in commands]
    *head, last = lines
    return "\n".join([*(f"{line} || exit 99" for line in head), last])


def _run(block: Block, cwd: Path, address: str | None) -> subprocess.CompletedProcess[str]:
    own = ("WEBHOOK_HARNESS_", "PYTEST_", "HYPOTHESIS_")  # a reader's shell has none of the suite's settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    # pytest plugins installed for other parts of the suite (not by webhook-harness) cost seconds at every start
    env["PYTEST_ADDOPTS"] = "-p no:locust -p no:schemathesis -p no:faker"
    return subprocess.run(
        ["bash", "-c", _script(block.commands, address)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_the_docs_have_runnable_examples() -> None:
    assert {block.path.name for block in BLOCKS} >= {"README.md"}
    assert all(block.commands for block in BLOCKS), [b.id for b in BLOCKS if not b.commands]


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_runnable_example(block: Block, tmp_path: Path) -> None:
    cwd = _scratch(tmp_path, block)
    provider = block.options.get("receiver")
    if provider is None:
        done = _run(block, cwd, None)
    else:
        from harness.credentials import Credentials
        from harness.receiver import ReferenceReceiver

        secret = block.options.get("secret")
        credentials = Credentials(secret=secret) if secret else None
        with ReferenceReceiver(provider, credentials=credentials, bug=block.options.get("bug")) as receiver:
            done = _run(block, cwd, f"{receiver.host}:{receiver.port}")
    output = done.stdout + done.stderr
    assert done.returncode != 99, f"{block.id}: a command before the last failed:\n{output}"
    assert done.returncode == int(block.options.get("exit", "0")), f"{block.id}: exit {done.returncode}\n{output}"
    assert missing_lines(block.expected, output) == [], f"{block.id}: the shown output differs from:\n{output}"


def test_the_output_matcher_catches_a_stale_line() -> None:
    real = "accepts-valid   PASSED  0.16s  3 requests\nrejects-bad-auth   FAILED  0.01s  2 requests\n"
    assert missing_lines(["accepts-valid PASSED 0.45s 12 requests", "..."], real) == []
    assert missing_lines(["rejects-bad-auth PASSED 0.01s 2 requests"], real) == [
        "rejects-bad-auth PASSED 0.01s 2 requests"
    ]
    assert missing_lines(["rejects-bad-auth FAILED", "accepts-valid PASSED"], real) == ["accepts-valid PASSED"]
    assert missing_lines(['Payload: {"token":"abc",…'], 'Payload: {"token":"xyz","team":"T1"}') == []


def test_a_marker_without_a_console_block_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- runnable -->\n```bash\nls\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="right above a ```console block"):
        list(runnable_blocks(page))


def test_the_scratch_folder_links_only_the_folders_a_block_names_as_paths(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    readme_pytest = Block(ROOT / "README.md", 1, {}, ["pytest --webhook-max-examples 10 --junitxml report.xml"])
    assert list(_scratch(tmp_path / "a", readme_pytest).iterdir()) == []  # what its text promises: an empty folder
    named = Block(ROOT / "README.md", 1, {}, ["x --examples 5", "y examples/pact/a.json --scenario=scenarios/b.toml"])
    assert sorted(p.name for p in _scratch(tmp_path / "b", named).iterdir()) == ["examples", "scenarios"]
