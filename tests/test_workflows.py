"""The GitHub workflows: they lint clean with actionlint, and they do what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from .cli_config import stack_names
from .harness import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def workflow(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True)
    return document


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    assert ACTIONLINT.exists(), "actionlint is missing: ./scripts/test installs it"
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_the_workflows_lint_clean():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["main.yml", "pull-request.yml", "tests.yml"]
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ matrix.missing }}\n      - uses: actions/checkout@v4\n        with:\n          bogus: 1\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert "matrix" in result.stdout and "bogus" in result.stdout


def test_pull_requests_run_the_tests_then_preview_every_stack_with_the_policy_pack():
    document = workflow("pull-request.yml")
    assert "pull_request" in document["on"]
    assert document["permissions"]["pull-requests"] == "write"
    assert document["jobs"]["tests"]["uses"] == "./.github/workflows/tests.yml"
    preview = document["jobs"]["preview"]
    assert preview["needs"] == "tests"
    assert sorted(entry["stack"] for entry in preview["strategy"]["matrix"]["include"]) == stack_names()
    [step] = [step for step in preview["steps"] if str(step.get("uses", "")).startswith("pulumi/actions@")]
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["comment-on-pr"] is True
    assert (PROJECT_DIR / step["with"]["policyPacks"] / "PulumiPolicy.yaml").is_file()


def test_pushes_to_main_run_the_tests():
    document = workflow("main.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["jobs"]["tests"]["uses"] == "./.github/workflows/tests.yml"
    steps = workflow("tests.yml")["jobs"]["test"]["steps"]
    assert [step["run"] for step in steps if "run" in step][-1] == "./scripts/test --unit"
