"""Fast start: the light commands import none of the heavy libraries (timings live in benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# pact: an extra. referencing, jsonschema: the catalog builds its $ref registry on first use; ssl: used when sending
HEAVY = (
    "hypothesis",
    "aiohttp",
    "sqlalchemy",
    "cryptography",
    "requests",
    "tqdm",
    "pact",
    "referencing",
    "jsonschema",
    "ssl",
)

_PROBE = """
import json, sys
from harness.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_modules_after(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv], capture_output=True, text=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("providers",),
        ("providers", "--details"),
        ("check", "--help"),
        ("send", "--help"),
        ("simulate", "--help"),
        ("receiver", "--help"),
        ("generate", "--help"),
        ("keygen", "--help"),
        ("pact", "verify", "--help"),
    ],
    ids=" ".join,
)
def test_light_commands_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    assert _heavy_modules_after(*argv) == []


def test_help_does_not_load_the_catalog() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from harness.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print('jsonschema' in sys.modules, file=sys.stderr)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_the_package_namespace_still_offers_its_public_names() -> None:
    import harness

    assert harness.load_catalog().get("github").id == "github"
    assert issubclass(harness.UsageError, harness.HarnessError)
    assert set(harness.__all__) <= set(dir(harness))
    with pytest.raises(AttributeError):
        _ = harness.no_such_name  # type: ignore[attr-defined]
