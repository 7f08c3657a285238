"""The documented CI gate is valid YAML (yamllint) and really gates on a contract run with JUnit output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "docs" / "ci").glob("*.yml"))


def test_there_is_a_workflow() -> None:
    assert WORKFLOWS


def test_workflows_pass_yamllint() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(ROOT / ".yamllint.yml"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_gates_deployment_on_the_contract_run() -> None:
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        steps = [step for job in doc["jobs"].values() for step in job.get("steps", [])]
        commands = "\n".join(step.get("run", "") for step in steps)
        assert "--webhook-url" in commands and "--junitxml" in commands
        jobs = doc["jobs"]
        assert any("needs" in job for job in jobs.values()), "deployment must need the contract job"
