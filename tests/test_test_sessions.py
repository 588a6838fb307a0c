"""Two real-tier runs on one machine: each stops only its own processes and the orphans of a killed
run, never another live run's (tests/real/conftest.py, realtier/run/proctree.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from realtier.run.proctree import SESSION_VARIABLE, running_binaries_of, session_of, session_owner_alive
from tests.real.conftest import tool_processes


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A tools cache holding one binary (sleep), as the real tier's tools live in theirs."""
    folder = tmp_path / "cache"
    folder.mkdir()
    shutil.copy2(shutil.which("sleep"), folder / "sleep")
    monkeypatch.setenv("BRRTROUTER_TOOLS_CACHE", str(folder))
    started = []

    def start(session: str | None) -> subprocess.Popen:
        env = {key: value for key, value in os.environ.items() if key != SESSION_VARIABLE}
        if session is not None:
            env[SESSION_VARIABLE] = session
        process = subprocess.Popen([str(folder / "sleep"), "60"], env=env)
        started.append(process)
        return process

    yield folder, start
    for process in started:
        process.kill()
        process.wait()


def test_a_process_carries_the_session_that_started_it(cache):
    folder, start = cache
    mine = start(f"{os.getpid()}-aaaa")
    assert mine.pid in running_binaries_of(folder)
    assert session_of(mine.pid) == f"{os.getpid()}-aaaa"
    assert session_of(start(None).pid) is None


def test_each_session_sees_only_its_own_and_the_orphans_of_dead_ones(cache):
    _, start = cache
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = start(f"{os.getpid()}-mine")
        other_live = start(f"{live_owner.pid}-ci")
        orphan = start("999999999-killed")  # no such owner: a run that was killed
        by_hand = start(None)  # a user's own, not a test session's
        own = {pid for pid, _ in tool_processes(lambda session: session == f"{os.getpid()}-mine")}
        assert own == {mine.pid}
        orphans = {pid for pid, _ in tool_processes(lambda session: not session_owner_alive(session))}
        assert orphans == {orphan.pid}
        assert other_live.pid not in orphans and by_hand.pid not in orphans | own
    finally:
        live_owner.kill()
        live_owner.wait()


def collected(marker: str) -> set[str]:
    """The test files pytest selects with `-m marker`, as ./scripts/test's two halves do."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-m", marker, "--collect-only", "-q", "-p", "no:cacheprovider"],
                            capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0, result.stdout + result.stderr
    return {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}


def test_the_suites_two_halves_split_on_the_docker_fixture_and_miss_nothing():
    """./scripts/test runs `-m docker` beside `-m "not docker"`: every dev-stack module on the Docker
    side (they share one kind cluster, in file order), the local cluster's and the unit tier on the
    other, and no test in neither."""
    docker, rest = collected("docker"), collected("not docker")
    assert {"tests/real/test_dev_stack.py", "tests/real/test_dev_stack_data.py",
            "tests/real/test_dev_stack_faults.py", "tests/real/test_dev_docker_layer.py"} <= docker
    assert not {path for path in docker if "test_dev_stack" in path} & rest
    assert {"tests/real/test_round_trip.py", "tests/real/test_production_up.py", "tests/real/test_package.py",
            "tests/test_stack_dev.py"} <= rest
    assert not {"tests/real/test_round_trip.py", "tests/test_stack_dev.py"} & docker
