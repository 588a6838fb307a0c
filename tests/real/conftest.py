"""The real tier: the Pulumi engine, a local control plane, MinIO, Docker and Velero, built here by
scripts/engine. A test of this tier never skips: where its tools are missing it fails and says
why (./scripts/test builds them first)."""

from __future__ import annotations

import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from realtier.build import cache
from realtier.run.chartrepo import ChartRepository
from realtier.run.dockerd import DockerUnavailable, daemon
from realtier.run.engine import Engine, copy_parts
from realtier.run.gitserver import GitServer, tagged_repository
from realtier.run.localstack import LocalStack
from realtier.run.proctree import SESSION_VARIABLE, running_binaries_of, session_of, session_owner_alive

from .figures import MEASURED

REAL_DIR = Path(__file__).parent


def tool_processes(belongs) -> list[tuple[int, str]]:
    """Processes running a binary of the real tier's cache (through a symlink too, as plugins do)
    whose test session `belongs(session)` says yes to."""
    found = []
    for pid in running_binaries_of(cache.cache_root()):
        session = session_of(pid)
        if session is None or not belongs(session):
            continue
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
    """The real tier leaves no process of its tools running. Every process this session starts
    carries its name (SESSION_VARIABLE); what a killed earlier session left (its owner is gone) is
    stopped first, another live session's processes (a CI run beside this one) are never touched,
    and a leak of this session fails it (and is stopped). SIGTERM ends the run through its
    finalizers, so an interrupted run cleans up too."""
    session = f"{os.getpid()}-{secrets.token_hex(4)}"
    os.environ[SESSION_VARIABLE] = session
    stop(tool_processes(lambda other: other != session and not session_owner_alive(other)))
    # As an interrupt: pytest then stops the whole run and runs its finalizers (a SystemExit would
    # only fail the test that was running, and the next would start).
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
    left = tool_processes(lambda other: other == session)
    stop(left)
    assert not left, f"the real tier left processes running (now stopped): {left}"


def pytest_terminal_summary(terminalreporter):
    if MEASURED:
        terminalreporter.section("what the real tier measured")
        for line in MEASURED:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(REAL_DIR):
            item.add_marker(pytest.mark.real)
            if "docker" in item.fixturenames:  # itself or through a fixture it uses (dev_stack)
                item.add_marker(pytest.mark.docker)


def cannot_run(why: object) -> None:
    pytest.fail(f"the real tier cannot run here: {why}", pytrace=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """One local control plane (with kwok's fake node) and MinIO for the session."""
    try:
        stack = LocalStack.start(tmp_path_factory.mktemp("localstack"))
    except cache.ToolchainError as error:
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
    """The Docker daemon: the machine's, or one the session starts (and may restart: a reboot)."""
    try:
        with daemon(tmp_path_factory.mktemp("dockerd")) as started:
            yield started
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
    except cache.ToolchainError as error:
        cannot_run(error)


@pytest.fixture(scope="session")
def dev_stack(docker, tmp_path_factory):
    """One dev stack for the session, up by ./scripts/up --yes, with the application's images in the
    daemon: the dev stack's modules (test_dev_stack*.py) share it in file order, and the last of
    them destroys it; whatever is left is destroyed at the end of the session."""
    from .devstack import DevStackUnavailable, dev_stack_up
    from .workloads import LOADED_IMAGES

    try:
        with dev_stack_up(tmp_path_factory.mktemp("dev-stack"), docker, LOADED_IMAGES) as stack:
            yield stack
    except DevStackUnavailable as error:
        cannot_run(error)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Names of Docker objects the tests make: never those of a user's own dev stack."""
    return "rt" + secrets.token_hex(3)


@dataclass(frozen=True)
class TaggedPackage:
    """The package's files at a tag of a git repository on an https git host of the session's own."""

    repository_url: str
    tag: str
    environment: dict[str, str]

    @property
    def plugin_source(self) -> str:
        """What `pulumi package add` takes: the plugin folder of the repository at the tag."""
        return f"{self.repository_url}/provider@{self.tag}"

    @property
    def pip_requirement(self) -> str:
        return f"velero-pulumi @ git+{self.repository_url}@{self.tag}"


@pytest.fixture(scope="session")
def package_at_a_tag(tmp_path_factory):
    """A repository of the package's files (PACKAGE_FILES, requirements.txt, provider/) tagged
    v<version>, on https://127.0.0.1 (port 443: see GitServer), as a user's git host serves it."""
    from velero_pulumi.package import package_version

    from ..harness import PACKAGE_FILES, PROJECT_DIR

    worktree = tmp_path_factory.mktemp("velero-pulumi-repository")
    copy_parts(PROJECT_DIR, (*PACKAGE_FILES, "requirements.txt", "provider"), worktree)
    tag = f"v{package_version()}"
    tagged_repository(worktree, tag)
    try:
        host = GitServer.start(tmp_path_factory.mktemp("git-host"))
    except OSError as error:
        cannot_run(f"the git host for the package's tag did not start: {error}")
    with host:
        host.publish(worktree, "velero-pulumi")
        yield TaggedPackage(host.url("velero-pulumi"), tag, host.environment())
