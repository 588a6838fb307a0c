"""The two commands: ./scripts/up checks prerequisites and drives the Pulumi CLI; .ci/run runs the tests.

The CLI, Docker and kind are stand-ins on a PATH of our own, which log how they were called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import PROJECT_DIR

BASICS = ("bash", "env", "sha256sum", "cut", "cat", "dirname", "mkdir")


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def sandbox(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASICS:
        os.symlink(shutil.which(tool), bin_dir / tool)
    home = tmp_path / "home"
    home.mkdir()
    return bin_dir, home, tmp_path / "calls.log"


def with_tools(bin_dir: Path, kind_version: str = "v0.30.0", docker_info_exit: int = 0) -> None:
    fake(
        bin_dir,
        "pulumi",
        'if [ "$1" = version ]; then echo v3.272.0; fi\n'
        # As the real CLI: a key Pulumi.yaml declares with a default ("") is "set" to that default.
        'if [ "$1 $2" = "config get" ]; then printf %s "${CONFIG_GET_VALUE:-}"; exit 0; fi\n'
        'if [ "$1 $2" = "config set" ]; then echo "stdin $(cat)" >> "$CALLS"; fi\n'
        'echo "env PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE=$PULUMI_CONFIG_PASSPHRASE" >> "$CALLS"',
    )
    fake(
        bin_dir, "docker",
        f'if [ "$1" = --version ]; then echo "Docker version 28.2.2, build e6534b4"; fi\n'
        f'if [ "$1" = info ]; then exit {docker_info_exit}; fi',
    )
    fake(bin_dir, "kind", f'echo "kind {kind_version} go1.24.6 linux/amd64"')


def up(sandbox, *args: str, **env: str) -> subprocess.CompletedProcess:
    bin_dir, home, calls = sandbox
    environment = {"PATH": str(bin_dir), "HOME": str(home), "CALLS": str(calls), "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(PROJECT_DIR / "scripts" / "up"), *args],
        env=environment, capture_output=True, text=True, timeout=120,
    )


def calls(sandbox) -> list[str]:
    path = sandbox[2]
    return path.read_text().splitlines() if path.exists() else []


def test_missing_tools_are_named_with_how_to_get_them(sandbox):
    result = up(sandbox)
    assert result.returncode == 1
    assert "pulumi: not found. Install the Pulumi CLI" in result.stderr
    assert "docker: not found. Install Docker" in result.stderr
    assert "kind: not found. Install kind" in result.stderr
    assert "velero: not found" in result.stderr  # a warning only
    assert calls(sandbox) == []


def test_an_old_kind_is_refused(sandbox):
    with_tools(sandbox[0], kind_version="v0.29.0")
    result = up(sandbox)
    assert result.returncode == 1
    assert "kind: version 0.29.0 is too old, 0.30.0 or newer is needed" in result.stderr
    assert not any(line.startswith("pulumi stack") for line in calls(sandbox))


def test_a_stopped_docker_daemon_is_reported(sandbox):
    with_tools(sandbox[0], docker_info_exit=1)
    result = up(sandbox)
    assert result.returncode == 1
    assert "the Docker daemon is not reachable" in result.stderr


def test_check_only_checks(sandbox):
    with_tools(sandbox[0])
    result = up(sandbox, "--check")
    assert result.returncode == 0, result.stderr
    assert "ok: kind 0.30.0" in result.stdout and "ok: pulumi 3.272.0" in result.stdout
    assert "ok: docker 28.2.2" in result.stdout
    assert not any(line.startswith(("pulumi stack", "pulumi up")) for line in calls(sandbox))


def test_up_selects_the_dev_stack_on_a_local_file_backend(sandbox):
    with_tools(sandbox[0])
    result = up(sandbox, "--yes")
    assert result.returncode == 0, result.stderr
    home = sandbox[1]
    backend = f"file://{home}/.brrtrouter/pulumi-state"
    log = calls(sandbox)
    assert "pulumi stack select dev --create --non-interactive" in log
    # The repository password, generated once, as a secret, its value on stdin (never an argument).
    setting = log.index("pulumi config set --secret veleroRepositoryPassword --stack dev --non-interactive")
    assert log.index("pulumi stack select dev --create --non-interactive") < setting < log.index("pulumi up --stack dev --yes")
    password = log[setting + 1].removeprefix("stdin ")
    assert len(password) >= 40 and password not in " ".join(line for line in log if line.startswith("pulumi "))
    assert log[-2:] == ["pulumi up --stack dev --yes", f"env PULUMI_BACKEND_URL={backend} PULUMI_CONFIG_PASSPHRASE=brrtrouter-dev"]
    assert (home / ".brrtrouter" / "pulumi-state").is_dir()
    assert "PULUMI_CONFIG_PASSPHRASE is not set" in result.stderr


def test_up_never_replaces_a_repository_password_the_stack_has(sandbox):
    with_tools(sandbox[0])
    result = up(sandbox, CONFIG_GET_VALUE="the-password-set-before")
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("pulumi config set") for line in calls(sandbox))


def test_up_keeps_the_users_backend_and_passphrase(sandbox):
    with_tools(sandbox[0])
    result = up(sandbox, PULUMI_BACKEND_URL="s3://my-state", PULUMI_CONFIG_PASSPHRASE="mine")
    assert result.returncode == 0, result.stderr
    assert calls(sandbox)[-1] == "env PULUMI_BACKEND_URL=s3://my-state PULUMI_CONFIG_PASSPHRASE=mine"
    assert "is not set" not in result.stderr


def test_ci_runs_the_readme_test_command_and_nothing_else():
    ci = (PROJECT_DIR / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "exec bash scripts/test"
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "./scripts/test" in readme and "./scripts/up" in readme


def fetch_crds(tmp_path, curl_body: str) -> tuple[subprocess.CompletedProcess, Path]:
    bin_dir = tmp_path / "curl-bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text("#!/bin/bash\n" + curl_body + "\n")
    (bin_dir / "curl").chmod(0o755)
    dest = tmp_path / "crds"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": sys.executable, "URLS": str(tmp_path / "urls")}
    result = subprocess.run(
        ["bash", str(PROJECT_DIR / "scripts" / "fetch-velero-crds"), str(dest)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    return result, dest


# curl's last two arguments are --output FILE URL; this stand-in serves the shared CRDs by name.
SERVE_SHARED = (
    'out="${@: -2:1}"; url="${@: -1}"; echo "$url" >> "$URLS"; '
    f'cp "{PROJECT_DIR.parent / "shared" / "velero-crds"}/$(basename "$(dirname "$(dirname "$url")")")/$(basename "$url")" "$out"'
)


def test_fetch_crds_takes_the_pinned_release(tmp_path):
    result, dest = fetch_crds(tmp_path, SERVE_SHARED)
    assert result.returncode == 0, result.stderr
    assert len(list(dest.glob("*/*.yaml"))) == 13
    assert "Velero v1.18.1 CRDs" in result.stdout
    urls = (tmp_path / "urls").read_text().splitlines()
    assert len(urls) == 13
    assert all(url.startswith("https://raw.githubusercontent.com/vmware-tanzu/velero/v1.18.1/config/crd/") for url in urls)


def test_fetch_crds_fails_loudly_on_an_http_error(tmp_path):
    result, dest = fetch_crds(tmp_path, 'echo "curl: (22) The requested URL returned error: 404" >&2; exit 22')
    assert result.returncode != 0
    assert "could not download https://raw.githubusercontent.com/vmware-tanzu/velero/v1.18.1/config/crd/v1/bases/velero.io_backuprepositories.yaml" in result.stderr
    assert not dest.exists()


def test_fetch_crds_refuses_an_error_page_saved_as_a_crd(tmp_path):
    result, dest = fetch_crds(tmp_path, 'echo "404: Not Found" > "${@: -2:1}"')
    assert result.returncode != 0
    assert "not a velero.io CustomResourceDefinition" in result.stderr
    assert not dest.exists()
