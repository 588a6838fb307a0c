"""Stand-ins for the command-line tools the operations scripts call (kubectl, velero, docker, ...).

Each stand-in logs its arguments and answers from a table of (argument substring -> output, exit code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .harness import PROJECT_DIR

TOOLS = ("kubectl", "velero", "curl", "pulumi", "docker", "kind")

FAKE = """#!{python}
import json, os, sys
args = " ".join(sys.argv[1:])
with open(os.environ["CALLS"], "a") as log:
    log.write(os.path.basename(sys.argv[0]) + " " + args + "\\n")
for needle, output, code in json.loads(os.environ["ANSWERS_" + os.path.basename(sys.argv[0]).upper()]):
    if needle in args:
        sys.stdout.write(output)
        sys.exit(code)
"""


@pytest.fixture
def tools(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in TOOLS:
        (bin_dir / name).write_text(FAKE.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls.log"

    def run(script: str, *args: str, answers: dict[str, list]) -> tuple[subprocess.CompletedProcess, list[str]]:
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CALLS": str(calls),
            "PYTHON": sys.executable,
            **{f"ANSWERS_{tool.upper()}": json.dumps(rules) for tool, rules in answers.items()},
        }
        for tool in TOOLS:
            env.setdefault(f"ANSWERS_{tool.upper()}", "[]")
        result = subprocess.run(
            ["bash", str(PROJECT_DIR / "scripts" / script), *args], env=env, capture_output=True, text=True, timeout=120
        )
        return result, calls.read_text().splitlines() if calls.exists() else []

    return run


