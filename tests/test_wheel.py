"""A wheel built from the tree carries the catalog: installed apart from the source tree, it lists every provider
and generates payloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_catalog_and_works_outside_the_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next(dist.glob("webhook_harness-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "harness/_catalog_data/schemas/sendgrid/profile.json" in names
    assert "harness/_catalog_data/scenarios/sendgrid-employee-survey.toml" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import harness, json, sys\n"
        "from harness.catalog import load_catalog\n"
        "from harness.volume import VolumeGenerator\n"
        "from harness.catalog._loader import builtin_schemas_dir\n"
        "c = load_catalog()\n"
        "print(json.dumps({'file': harness.__file__, 'schemas': str(builtin_schemas_dir()),\n"
        "  'providers': sorted(p.id for p in c),\n"
        "  'payload': VolumeGenerator('sendgrid', seed=1).payload('click')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    data = json.loads(out.stdout)
    assert data["file"].startswith(str(site)) and data["schemas"].startswith(str(site))
    assert data["providers"] == sorted(
        [
            *("sendgrid", "jira", "teams", "oci", "github", "stripe", "slack", "shopify", "standard"),
            *("zoom", "paddle", "pagerduty", "square"),
            *("standard-v1a", "discord", "gcp-pubsub", "mailgun"),  # issue 24: Ed25519, OIDC, Mailgun
        ]
    )
    assert data["payload"]["event"] == "click"
    cli = subprocess.run(
        [sys.executable, "-m", "harness", "generate", "stripe", "--count", "1"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(cli.stdout)["object"] == "event"
