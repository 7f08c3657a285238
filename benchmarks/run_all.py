"""Run every ``bench_*.py`` in this folder in turn (`make bench`); ``--quick`` is the smoke run `make test` uses.

A full run exits 1 when a benchmark misses a stated target or fails. A quick run judges no target (each benchmark's
own ``--quick`` prints its targets without a verdict) but still exits 1 when a benchmark crashes or overruns its
time limit, so a benchmark that no longer runs cannot go unnoticed.

Every run collects the machine, each benchmark's figures and targets into one result (benchmarks/_results.py). A
full run stores it in benchmarks/results/<date>-<commit>.json and redraws benchmarks/results/index.html; a quick
run stores it in a temporary folder (printed), so `make test` leaves the repository as it was. ``--results DIR``
stores either kind in DIR instead.

A quick run starts two benchmarks at a time (``--jobs``): most of a smoke run waits on sockets and child processes,
and its figures are no verdict. Each benchmark's output is printed whole when it ends, in name order. A full run
keeps one at a time, so no benchmark measures while another loads the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results  # noqa: E402
from _common import RESULT_ENV  # noqa: E402

RESULTS = HERE / "results"
QUICK_LIMIT = 900.0  # seconds one quick benchmark may take on a loaded CI machine before the smoke run fails
FULL_LIMIT = 3600.0
QUICK_JOBS = 2  # benchmarks a quick run starts at a time (a full run: 1)


def benchmarks() -> list[Path]:
    """Every benchmark script, in name order (a new ``bench_*.py`` is picked up without registering it)."""
    return sorted(HERE.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run of each benchmark; no verdict")
    parser.add_argument(
        "--results",
        type=Path,
        help="store the result here (default: benchmarks/results/, or a temporary folder for --quick)",
    )
    parser.add_argument(
        "--jobs", type=int, help=f"benchmarks run at a time (default {QUICK_JOBS} with --quick, else 1)"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this benchmark, e.g. bench_check (repeat)"
    )
    args, rest = parser.parse_known_args()
    chosen = [script for script in benchmarks() if not args.only or script.stem in args.only]
    unknown = sorted(set(args.only) - {script.stem for script in benchmarks()})
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; known: {', '.join(s.stem for s in benchmarks())}")
    limit = QUICK_LIMIT if args.quick else FULL_LIMIT
    extra = ["--quick", *rest] if args.quick else rest
    jobs = max(1, args.jobs or (QUICK_JOBS if args.quick else 1))
    folder = args.results or (Path(tempfile.mkdtemp(prefix="bench-results-")) if args.quick else RESULTS)
    result = _results.new_result(args.quick)
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:

        def run(script: Path) -> tuple[int, float, str]:
            """Exit code, seconds and output of one benchmark (printed as it runs when one job runs at a time)."""
            report_file = Path(scratch) / f"{script.stem}.json"
            env = {**os.environ, RESULT_ENV: str(report_file)}
            started = time.perf_counter()
            output = ""
            try:
                if jobs == 1:
                    print(f"\n=== {script.name} ===", flush=True)
                    code = subprocess.call([sys.executable, str(script), *extra], timeout=limit, env=env)
                else:
                    done = subprocess.run(
                        [sys.executable, str(script), *extra],
                        timeout=limit,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                        check=False,
                    )
                    code, output = done.returncode, done.stdout
            except subprocess.TimeoutExpired as stopped:
                partial = stopped.output or ""  # what it printed before it was stopped (bytes on POSIX)
                output = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
                output += f"{script.name}: still running after {limit:.0f}s, stopped\n"
                code = -1
            return code, time.perf_counter() - started, output

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            scripts = chosen
            for script, (code, seconds, output) in zip(scripts, pool.map(run, scripts), strict=True):
                if jobs > 1:
                    print(f"\n=== {script.name} ===\n{output}", end="", flush=True)
                print(f"--- {script.name}: exit {code} in {seconds:.1f}s", flush=True)
                report_file = Path(scratch) / f"{script.stem}.json"
                report = json.loads(report_file.read_text()) if report_file.is_file() else {}
                _results.add_benchmark(result, script.stem, code, seconds, report)
                if code != 0:
                    failed.append(script.name)
    _results.finish(result)
    path = _results.write(result, folder)
    print("\n" + (f"failed: {', '.join(failed)}" if failed else f"all {len(chosen)} benchmarks ran"))
    print(f"result: {path}; page: {folder / 'index.html'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
