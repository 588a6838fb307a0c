"""The real tier: the Pulumi engine, a local control plane, MinIO, Docker and Velero, built here by
scripts/engine. A test of this tier never skips: where its tools are missing it fails and says
why (./scripts/test builds them first)."""

from __future__ import annotations

import os
import secrets
import signal
from pathlib import Path

import pytest

from realtier import toolchain
from realtier.chartrepo import ChartRepository
from realtier.dockerd import DockerUnavailable, daemon
from realtier.engine import Engine
from realtier.localstack import LocalStack
from realtier.proctree import running_binaries_of

REAL_DIR = Path(__file__).parent


def tool_processes() -> list[tuple[int, str]]:
    """Processes running a binary of the real tier's cache (through a symlink too, as plugins do)."""
    found = []
    for pid in running_binaries_of(toolchain.cache_root()):
        try:
            found.append((pid, Path(f"/proc/{pid}/cmdline").read_text(errors="replace").replace("\0", " ")[:120]))
        except OSError:
            continue
    return found


def stop(processes: list[tuple[int, str]]) -> None:
    for pid, _ in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(autouse=True, scope="session")
def nothing_left_running():
    """The real tier leaves no process of its tools running: what a killed earlier run left is
    stopped first; a leak of this run fails it (and is stopped). SIGTERM ends the run through its
    finalizers, so an interrupted run cleans up too."""
    stop(tool_processes())
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
    left = tool_processes()
    stop(left)
    assert not left, f"the real tier left processes running (now stopped): {left}"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(REAL_DIR):
            item.add_marker(pytest.mark.real)


def cannot_run(why: object) -> None:
    pytest.fail(f"the real tier cannot run here: {why}", pytrace=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """One local control plane (with kwok's fake node) and MinIO for the session."""
    try:
        stack = LocalStack.start(tmp_path_factory.mktemp("localstack"))
    except toolchain.ToolchainError as error:
        cannot_run(error)
    except (RuntimeError, TimeoutError, OSError) as error:
        cannot_run(f"the local cluster did not start: {error}")
    with stack:
        yield stack


@pytest.fixture(scope="session")
def production_kubeconfig(cluster):
    """A kubeconfig for the session's cluster answering to every context the stack files name, on a
    cluster with the Prometheus Operator's CRDs the production stacks' monitoring needs."""
    from . import kube
    from .stacks import write_production_kubeconfig

    kube.install_crds(cluster.api, kube.OPERATOR_CRDS)
    return write_production_kubeconfig(cluster)


@pytest.fixture(scope="session")
def docker(tmp_path_factory):
    try:
        with daemon(tmp_path_factory.mktemp("dockerd")) as state:
            yield state
    except DockerUnavailable as error:
        cannot_run(error)


@pytest.fixture(scope="session")
def chart_repository(tmp_path_factory):
    """The official chart package served as a Helm repository over https on 127.0.0.1."""
    with ChartRepository.start(tmp_path_factory.mktemp("chart-repository")) as repository:
        yield repository


@pytest.fixture
def engine(tmp_path) -> Engine:
    """A Pulumi engine with its own home and state, on a fresh copy of the project."""
    try:
        return Engine.create(tmp_path / "engine")
    except toolchain.ToolchainError as error:
        cannot_run(error)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Names of Docker objects the tests make: never those of a user's own dev stack."""
    return "rt" + secrets.token_hex(3)
