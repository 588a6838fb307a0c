"""The two commands: ./scripts/up checks prerequisites and drives the Pulumi CLI; .ci/run runs the tests.

The CLI, Docker and kind are stand-ins on a PATH of our own, which log how they were called.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .harness import PROJECT_DIR

BASICS = ("bash", "env", "sha256sum", "cut", "cat", "dirname", "mkdir", "mktemp", "rm")


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


def with_tools(bin_dir: Path, kind_version: str = "v0.30.0", docker_info_exit: int = 0, up_exit: int = 0) -> None:
    fake(
        bin_dir,
        "pulumi",
        'if [ "$1" = version ]; then echo v3.272.0; fi\n'
        # As the real CLI: a key Pulumi.yaml declares with a default ("") is "set" to that default.
        'if [ "$1 $2" = "config get" ]; then printf %s "${CONFIG_GET_VALUE:-}"; exit 0; fi\n'
        'if [ "$1 $2" = "config set" ]; then echo "stdin $(cat)" >> "$CALLS"; fi\n'
        'echo "env PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE=$PULUMI_CONFIG_PASSPHRASE" >> "$CALLS"\n'
        f'if [ "$1" = up ]; then exit {up_exit}; fi',
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
    assert log.index("pulumi stack select dev --create --non-interactive") < setting < log.index(
        "pulumi up --stack dev --yes --skip-preview")
    password = log[setting + 1].removeprefix("stdin ")
    assert len(password) >= 40 and password not in " ".join(line for line in log if line.startswith("pulumi "))
    # --yes: no confirmation asked, so no preview first either.
    assert log[-2:] == ["pulumi up --stack dev --yes --skip-preview",
                        f"env PULUMI_BACKEND_URL={backend} PULUMI_CONFIG_PASSPHRASE=brrtrouter-dev"]
    assert (home / ".brrtrouter" / "pulumi-state").is_dir()
    assert "PULUMI_CONFIG_PASSPHRASE is not set" in result.stderr


def test_a_failed_up_keeps_its_exit_code_and_asks_for_the_locations_reason(sandbox):
    with_tools(sandbox[0], up_exit=3)
    result = up(sandbox, "--yes")
    assert result.returncode == 3, result.stderr
    # The context of the stack's cluster, for scripts/location_status.py (silent where there is none).
    assert "pulumi stack output kubeContext --stack dev" in calls(sandbox)


def test_without_yes_up_previews_and_asks(sandbox):
    with_tools(sandbox[0])
    assert up(sandbox, "--diff").returncode == 0
    assert "pulumi up --stack dev --diff" in calls(sandbox)
    assert up(sandbox, "-y", "--skip-preview").returncode == 0
    assert "pulumi up --stack dev -y --skip-preview" in calls(sandbox)  # not twice


def test_a_second_up_while_one_runs_is_refused_and_changes_nothing(sandbox, tmp_path):
    bin_dir, home, calls_log = sandbox
    with_tools(bin_dir)
    for tool in ("sleep", "touch"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    started = tmp_path / "first-up-started"
    # The first up's pulumi up holds until the test lets it go.
    (bin_dir / "pulumi").write_text((bin_dir / "pulumi").read_text().replace(
        'if [ "$1" = up ]', f'if [ "$1" = up ]; then touch {started}; while [ ! -e {tmp_path}/go ]; do sleep 0.1; done; fi\n'
                            'if [ "$1" = up ]'))
    environment = {"PATH": str(bin_dir), "HOME": str(home), "CALLS": str(calls_log), "PYTHON": sys.executable}
    first = subprocess.Popen(["bash", str(PROJECT_DIR / "scripts" / "up"), "--yes"], env=environment,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            if started.exists():
                break
            time.sleep(0.1)
        assert started.exists(), "the first up never reached pulumi up"
        before = calls(sandbox)
        second = up(sandbox, "--yes")
        assert second.returncode == 1
        assert f"another ./scripts/up of the dev stack is running (pid {first.pid})" in second.stderr
        assert "nothing was changed" in second.stderr
        assert not [line for line in calls(sandbox)[len(before):] if line.startswith("pulumi") and "version" not in line]
    finally:
        (tmp_path / "go").touch()
        first.wait(timeout=60)
    assert first.returncode == 0
    assert up(sandbox, "--yes").returncode == 0  # the lock went with the first up


def killed_ups_leftover(sandbox, tmp_path, program: str) -> subprocess.Popen:
    """What a ./scripts/up killed with SIGKILL leaves: its pid in the lock's .pid file (now no
    process), and `program` (a stand-in named as Pulumi's) still holding the lock it inherited."""
    lock = sandbox[1] / ".brrtrouter" / "pulumi-state" / ".up-dev.lock"
    lock.parent.mkdir(parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    Path(f"{lock}.pid").write_text(f"{gone.pid}\n")
    stand_in = tmp_path / program
    os.symlink(shutil.which("sleep"), stand_in)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return subprocess.Popen([str(stand_in), "300"], pass_fds=(held.fileno(),))


# A provider, and the program's own Python, which the language host runs (one real SIGKILL run
# found it still holding the lock when the next up began).
@pytest.mark.parametrize("program", ["pulumi-resource-kubernetes", "python"])
def test_what_a_killed_up_left_holding_the_lock_is_stopped_and_the_next_up_runs(sandbox, tmp_path, program):
    with_tools(sandbox[0])
    plugin = killed_ups_leftover(sandbox, tmp_path, program)
    try:
        result = up(sandbox, "--yes")
        assert result.returncode == 0, result.stderr
        assert f"left Pulumi's plugins or program running (pids {plugin.pid}: {program}): stopping them" in result.stderr
        assert plugin.wait(timeout=15) is not None
        assert "pulumi up --stack dev --yes --skip-preview" in calls(sandbox)
    finally:
        plugin.kill()


def test_a_pulumi_still_running_after_its_up_was_killed_is_never_stopped(sandbox, tmp_path):
    with_tools(sandbox[0])
    cli = killed_ups_leftover(sandbox, tmp_path, "pulumi")
    try:
        result = up(sandbox, "--yes")
        assert result.returncode == 1
        assert f"left its pulumi running (pid {cli.pid}): wait for it to end or stop it" in result.stderr
        assert cli.poll() is None
        assert not [line for line in calls(sandbox) if line.startswith("pulumi up")]
    finally:
        cli.kill()


def test_what_a_killed_pulumi_left_in_the_state_is_mended_and_nothing_else(sandbox):
    with_tools(sandbox[0])
    state = sandbox[1] / ".brrtrouter" / "pulumi-state" / ".pulumi"
    stacks = state / "stacks" / "brrtrouter-backup"
    stacks.mkdir(parents=True)
    (stacks / "dev.json").write_text("{}")
    (stacks / "dev.json.attrs").write_text("")
    (stacks / "dev.json.bak.attrs").write_text('{"user.cache_control":""}')
    locks = state / "locks" / "organization" / "brrtrouter-backup" / "dev"
    locks.mkdir(parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    zombie = subprocess.Popen(["sleep", "60"])  # killed, not yet reaped: gone all the same
    zombie.kill()
    here = socket.gethostname()
    for name, pid, host in (("killed", gone.pid, here), ("zombie", zombie.pid, here), ("running", os.getpid(), here),
                            ("elsewhere", gone.pid, "other")):
        (locks / f"{name}.json").write_text(json.dumps({"pid": pid, "username": "u", "hostname": host, "timestamp": "t"}))
    result = up(sandbox, "--yes")
    assert result.returncode == 0, result.stderr
    assert "dev.json.attrs, left empty by a pulumi that was killed while it saved the state" in result.stderr
    assert "killed.json, the stack's lock of a pulumi that was killed (it no longer runs)" in result.stderr
    assert "zombie.json, the stack's lock" in result.stderr
    zombie.wait()
    assert sorted(path.name for path in stacks.iterdir()) == ["dev.json", "dev.json.bak.attrs"]
    assert sorted(path.name for path in locks.iterdir()) == ["elsewhere.json", "running.json"]


def test_pulumi_leaves_no_kubeconfig_behind_in_the_temporary_directory(sandbox, tmp_path):
    """The kubernetes provider writes the cluster's kubeconfig into $TMPDIR and never removes it:
    the scripts give Pulumi a private directory and remove it, and one a killed script left."""
    bin_dir, home, calls_log = sandbox
    with_tools(bin_dir)
    base = tmp_path / "tmp"
    base.mkdir()
    stale = base / "brrtrouter-pulumi.999999999.abcdef"  # no such process: a killed script's
    stale.mkdir()
    (stale / "kubeconfig123").write_text("client-key-data: old")
    # The stand-in pulumi writes a kubeconfig where the provider would, and says where.
    (bin_dir / "pulumi").write_text((bin_dir / "pulumi").read_text() + '\nif [ "$1" != version ]; then\n'
                                    '  echo "client-key-data: x" > "$TMPDIR/kubeconfig456"\n'
                                    '  echo "tmpdir $TMPDIR $(stat -c %a "$TMPDIR")" >> "$CALLS"\nfi\n')
    os.symlink(shutil.which("stat"), bin_dir / "stat")
    environment = {"PATH": str(bin_dir), "HOME": str(home), "CALLS": str(calls_log), "PYTHON": sys.executable,
                   "TMPDIR": str(base)}
    for script in (["scripts/pulumi", "preview", "--stack", "dev"], ["scripts/up", "--yes"]):
        result = subprocess.run(["bash", str(PROJECT_DIR / script[0]), *script[1:]], env=environment,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    used = [line.split()[1:] for line in calls(sandbox) if line.startswith("tmpdir ")]
    assert used and all(Path(path).parent == base and mode == "700" for path, mode in used)
    assert list(base.iterdir()) == []  # neither the scripts' directories nor the stale one are left


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


def suite_halves(tmp_path, docker_code: int, rest_code: int) -> subprocess.CompletedProcess:
    """scripts/test's run_suite_halves with a stand-in python whose pytest exits as told for each
    half (and names the half it ran), under set -e as scripts/test runs it."""
    python = tmp_path / "python"
    python.write_text(f"""#!/bin/sh
case "$*" in
  *"not docker"*) echo "the rest ran"; exit {rest_code} ;;
  *docker*) echo "the docker half ran"; exit {docker_code} ;;
esac
exit 99
""")
    python.chmod(0o755)
    return subprocess.run(["bash", "-c", f'set -euo pipefail; source "$0"; run_suite_halves {python}',
                           str(PROJECT_DIR / "scripts" / "bootstrap.sh")],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})


@pytest.mark.parametrize(("docker_code", "rest_code", "expected"), [(0, 0, 0), (1, 0, 1), (0, 1, 1), (0, 5, 1)])
def test_the_suite_passes_only_when_both_halves_pass(tmp_path, docker_code, rest_code, expected):
    result = suite_halves(tmp_path, docker_code, rest_code)
    assert result.returncode == expected, result.stdout + result.stderr
    assert result.stdout.index("the docker half ran") < result.stdout.index("the rest ran")  # the rest's log after
    assert f"the Docker half exited {docker_code}, the other half {rest_code}" in result.stdout
    assert not list(tmp_path.glob("brrtrouter-test-rest.*"))  # its log removed


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
