"""Import time and peak memory for a 5 MB OpenAPI webhooks description (targets: under 30 s and 300 MB).

.venv/bin/python benchmarks/bench_import.py [--spec api.github.com.json] [--mb 5] [--quick]

Without ``--spec`` (or ``GITHUB_WEBHOOKS_SPEC``) the description is built from the committed excerpt of GitHub's
official one, its webhooks and components copied under new names until it reaches the size asked for. The import
runs as the CLI does, in a fresh interpreter; memory is that process's peak resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table

ROOT = Path(__file__).resolve().parent.parent
EXCERPT = ROOT / "tests" / "importers" / "specs" / "github_official" / "api.github.com.excerpt.json"
_SCRIPT = Path(sys.executable).with_name("webhook-harness")
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "harness"]
SECONDS, MEGABYTES = 30.0, 300.0


def synthetic(size: int) -> dict[str, Any]:
    """A description of at least ``size`` bytes: the excerpt's webhooks and components, copied under new names."""
    excerpt = json.loads(EXCERPT.read_text())
    text = json.dumps({"webhooks": excerpt["webhooks"], "components": excerpt["components"]})
    doc: dict[str, Any] = {"openapi": excerpt["openapi"], "info": excerpt["info"], "webhooks": {}, "components": {}}
    copy, total = 0, 0
    while total < size:
        part = json.loads(text.replace("#/components/schemas/", f"#/components/schemas/c{copy}-"))
        for kind, entries in part["components"].items():
            names = {f"c{copy}-{k}" if kind == "schemas" else k: v for k, v in entries.items()}
            doc["components"].setdefault(kind, {}).update(names)
        for key, hook in part["webhooks"].items():
            op = hook["post"]
            op["x-github"]["subcategory"] += f"_{copy}"
            op["operationId"] = op["operationId"].replace("/", f"-{copy}/", 1) if "/" in op["operationId"] else key
            doc["webhooks"][f"{key}-{copy}"] = hook
        total += len(text)
        copy += 1
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=os.environ.get("GITHUB_WEBHOOKS_SPEC") or None)
    parser.add_argument("--mb", type=float, default=5.0, help="size of the synthetic description (without --spec)")
    parser.add_argument("--quick", action="store_true", help="a 0.5 MB synthetic description: a smoke run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        spec = None if args.quick else args.spec
        if spec is None:
            spec = Path(scratch) / "synthetic.json"
            spec.write_text(json.dumps(synthetic(int((0.5 if args.quick else args.mb) * 1024 * 1024))))
        argv = [*CLI, "import", "openapi", str(spec), "--id", "bench", "--scheme", "github"]
        argv += ["--out", str(Path(scratch) / "out"), "--allow-partial"]
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        if done.returncode != 0:
            print(done.stdout[-2000:] + done.stderr[-2000:])
            return 1
        wrote = next((line for line in done.stdout.splitlines() if line.startswith("Wrote")), "")
        size = spec.stat().st_size / 1024 / 1024
    targets = Targets(args.quick)
    targets.figure("import wall time", seconds, "s", better="lower")
    targets.figure("import peak RSS", peak, "MB", better="lower")
    targets.expect(seconds < SECONDS, f"import under {SECONDS:g} s")
    targets.expect(peak < MEGABYTES, f"import peak memory under {MEGABYTES:g} MB")
    print(f"{spec.name} ({size:.1f} MB): {wrote}")
    print(
        table(
            [
                ("measure", "value", "target"),
                ("wall time", f"{seconds:.1f} s", f"< {SECONDS:g} s"),
                ("peak RSS", f"{peak:.0f} MB", f"< {MEGABYTES:g} MB"),
            ]
        )
    )
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
