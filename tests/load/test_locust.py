"""Locust: lazy import, the missing-extra message, headless, and a real distributed run (1 master, 2 workers)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.receiver import ReferenceReceiver
from tests.load._helpers import stored

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "examples" / "locust" / "locustfile.py"
TIMEOUT = 120  # seconds any Locust process may live
# Shopify signs like GitHub (an HMAC of the body, keys in a header) from 4 event types: every Locust process builds
# its delivery pool in a blink instead of compiling GitHub's 259 types first
PROVIDER = "shopify"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


def test_the_core_the_cli_and_the_pytest_plugin_never_import_locust() -> None:
    code = (
        "import sys\n"
        "import harness, harness.cli, harness.load, harness.pytest_plugin, harness.cli._load, harness.simulate\n"
        "from harness.cli import build_parser; build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_locust_missing_is_one_line_naming_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['locust'] = None\n"
        "from harness.errors import HarnessError\n"
        "try:\n"
        "    import harness.locust\n"
        "except HarnessError as exc:\n"
        "    print(exc.exit_code, exc)\n"
    )
    done = _python(code)
    assert done.stdout.strip() == "2 Locust is not installed: pip install 'webhook-harness[locust]'."


def _env(rx: ReferenceReceiver, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_HARNESS_")}
    env.update(
        WEBHOOK_HARNESS_POOL_SIZE="200",  # built ahead in every Locust process: 2,000 would cost ~1 s of CPU in each
        WEBHOOK_HARNESS_PROVIDER=rx.provider.id,
        WEBHOOK_HARNESS_PATH=rx.url.removeprefix(rx.base_url),
        WEBHOOK_HARNESS_SECRET=rx.credentials.secret or "",
        **extra,
    )
    return env


def _aggregated(path: Path) -> tuple[int, int, set[str]]:
    """(requests, failures, request names) from Locust's final --json-file stats."""
    rows = json.loads(Path(f"{path}.json").read_text())
    requests = sum(int(row["num_requests"]) for row in rows)
    failures = sum(int(row["num_failures"]) for row in rows)
    return requests, failures, {row["name"] for row in rows}


@contextmanager
def _processes(commands: list[list[str]], env: dict[str, str]) -> Iterator[list[subprocess.Popen[str]]]:
    """Start each command; every process still running is killed (by its handle) on the way out."""
    procs: list[subprocess.Popen[str]] = []
    try:
        for command in commands:
            procs.append(
                subprocess.Popen(
                    command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def test_headless_in_a_subprocess(tmp_path: Path) -> None:
    prefix = tmp_path / "run"
    with ReferenceReceiver(PROVIDER) as rx:
        command = _locust("--headless", "-u", "2", "-r", "2", "--run-time", "2s", "--stop-timeout", "10")
        command += ["--host", rx.base_url, "--json-file", str(prefix), "--only-summary"]
        with _processes([command], _env(rx, WEBHOOK_HARNESS_USER_RATE="5")) as (proc,):
            out, _ = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, out[-3000:]
        requests, failures, names = _aggregated(prefix)
        assert failures == 0 and requests >= 10
        assert names and all(name.startswith(f"{PROVIDER}:") for name in names)
        assert stored(rx) == requests


def test_forked_processes_each_draw_their_own_deliveries(tmp_path: Path) -> None:
    """``--processes 2`` forks after the locustfile built its pool: each child must draw its own ids."""
    prefix = tmp_path / "forked"
    with ReferenceReceiver("stripe") as rx:
        command = _locust("--headless", "--processes", "2", "-u", "4", "-r", "4", "--run-time", "2s")
        command += ["--stop-timeout", "2", "--host", rx.base_url, "--json-file", str(prefix), "--only-summary"]
        env = _env(rx, WEBHOOK_HARNESS_USER_RATE="10")
        with _processes([command], env) as (proc,):
            out, _ = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, out[-3000:]
        requests, failures, _ = _aggregated(prefix)
        assert failures == 0 and requests >= 20, out[-3000:]
        assert stored(rx) == requests  # every success stored once: no id drawn by both children


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_distributed_master_and_two_workers_on_loopback(tmp_path: Path) -> None:
    prefix, port = tmp_path / "dist", _free_port()
    with ReferenceReceiver(PROVIDER) as rx:
        master = _locust("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port))
        master += ["--expect-workers", "2", "--headless", "-u", "4", "-r", "4", "--run-time", "2s"]
        master += ["--stop-timeout", "2", "--host", rx.base_url, "--json-file", str(prefix), "--only-summary"]
        worker = _locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port))
        env = _env(rx, WEBHOOK_HARNESS_USER_RATE="5")
        with _processes([master, worker, worker], env) as procs:
            out, _ = procs[0].communicate(timeout=TIMEOUT)  # the workers are ended on the way out
        assert procs[0].returncode == 0, out[-3000:]
        requests, failures, _ = _aggregated(prefix)
        assert failures == 0 and requests >= 10, out[-3000:]
        assert stored(rx) == requests  # each success stored once: no key repeated across the two workers


def test_locusts_own_pytest_plugin_stays_off(pytestconfig: pytest.Config) -> None:
    # locust#3202: its pytest11 plugin breaks `pytest -n`; pyproject's addopts say -p no:locust
    assert pytestconfig.pluginmanager.get_plugin("locust") is None
    assert "gevent" not in sys.modules  # and nothing in this process imported Locust (locust#2250)
