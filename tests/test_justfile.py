"""The justfile: every recipe parses and runs the right command; backup names carry a UTC timestamp."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import PROJECT_DIR

JUST = Path(sys.executable).parent / "just"
RECIPES = {
    "up", "preview", "destroy", "test", "start-minio", "stop-minio", "download-velero-crds", "backup-now",
    "backup-list", "backup-restore", "backup-before-upgrade", "restore-drill", "restore-service", "doctor", "plan",
    "sync-backups",
}
VELERO = "velero --kubecontext 'kind-brrtrouter-dev' --namespace 'velero'"


def just(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JUST), "--justfile", str(PROJECT_DIR / "justfile"), "--working-directory", str(PROJECT_DIR), *args],
        capture_output=True, text=True, timeout=60, env=env or os.environ.copy(),
    )


def dry_run(*args: str) -> str:
    result = just("--dry-run", *args)
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


def test_just_comes_from_the_requirements():
    assert "rust-just==" in (PROJECT_DIR / "requirements.txt").read_text()
    assert JUST.exists()


def test_every_recipe_is_there():
    result = just("--summary")
    assert result.returncode == 0, result.stderr
    assert RECIPES <= set(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (("up",), "./scripts/up"),
        (("up", "--yes"), "./scripts/up --yes"),
        (("preview",), "./scripts/pulumi preview --stack 'dev'"),
        (("stack=prod", "preview", "--diff"), "./scripts/pulumi preview --stack 'prod' --diff"),
        (("destroy",), "./scripts/pulumi destroy --stack 'dev'"),
        (("test", "-k", "minio"), "./scripts/test -k minio"),
        (("start-minio",), "docker start 'brrtrouter-minio'"),
        (("stop-minio",), "docker stop 'brrtrouter-minio'"),
        (("download-velero-crds",), "./scripts/fetch-velero-crds"),
        (("backup-list",), f"{VELERO} backup get"),
        (("sync-backups",), "kubectl --context 'kind-brrtrouter-dev' -n 'velero' rollout restart deployment/velero"),
        (("backup-now",), f"{VELERO} backup create 'brrtrouter-complete'-manual-\"$(date -u +%Y%m%d-%H%M%S)\" --from-schedule 'brrtrouter-complete' --wait"),
        (("backup-now", "redis-cache"), f"{VELERO} backup create 'redis-cache'-manual-\"$(date -u +%Y%m%d-%H%M%S)\" --from-schedule 'redis-cache' --wait"),
        (("backup-before-upgrade",), f"{VELERO} backup create pre-upgrade-\"$(date -u +%Y%m%d-%H%M%S)\" --from-schedule pre-upgrade --wait"),
        (("backup-restore", "b1"), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/backup-restore 'b1'"),
        (("backup-restore", "b1", "brrtrouter-dev:scratch"), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/backup-restore 'b1' 'brrtrouter-dev:scratch'"),
        (("restore-drill", "loki"), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/restore-drill 'loki'"),
        (("doctor",), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/doctor"),
        (("restore-service", "loki"), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/restore-service 'loki'"),
        (("restore-service", "loki", "loki-logs-1", "--yes"), "KUBE_CONTEXT='kind-brrtrouter-dev' VELERO_NAMESPACE='velero' ./scripts/restore-service 'loki' 'loki-logs-1' --yes"),
        (("plan",), "./scripts/python scripts/plan.py --stack 'dev'"),
        (("context=prod-eks", "backup-list"), "velero --kubecontext 'prod-eks' --namespace 'velero' backup get"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_recipes_dry_run_to_the_right_command(args, command):
    assert dry_run(*args).splitlines()[0].rstrip() == command


def run_with_fake_velero(tmp_path, *args):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "velero.log"
    (bin_dir / "velero").write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > "{log}"\n')
    (bin_dir / "velero").chmod(0o755)
    # A zone far from UTC: the name must still carry UTC.
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TZ": "Pacific/Kiritimati"}
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    result = just(*args, env=env)
    after = dt.datetime.now(dt.timezone.utc)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines(), before, after


def name_time(name: str, prefix: str) -> dt.datetime:
    found = re.fullmatch(re.escape(prefix) + r"-(\d{8}-\d{6})", name)
    assert found, name
    return dt.datetime.strptime(found[1], "%Y%m%d-%H%M%S").replace(tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("args", "prefix", "schedule"),
    [
        (("backup-now", "prometheus-data"), "prometheus-data-manual", "prometheus-data"),
        (("backup-before-upgrade",), "pre-upgrade", "pre-upgrade"),
    ],
)
def test_backup_names_carry_the_utc_time_of_the_run(tmp_path, args, prefix, schedule):
    argv, before, after = run_with_fake_velero(tmp_path, *args)
    assert argv[:6] == ["--kubecontext", "kind-brrtrouter-dev", "--namespace", "velero", "backup", "create"]
    assert before <= name_time(argv[6], prefix) <= after
    assert argv[7:] == ["--from-schedule", schedule, "--wait"]


def test_arguments_cannot_inject_shell(tmp_path):
    argv, _, _ = run_with_fake_velero(tmp_path, "backup-now", "x'; touch injected; '")
    assert not (PROJECT_DIR / "injected").exists()
    assert argv[6].startswith("x'; touch injected; '-manual-")


def test_restore_service_takes_no_flag_but_yes():
    result = just("--dry-run", "restore-service", "loki", "", "; touch injected")
    assert result.returncode != 0
    assert "restore-service takes only --yes after the backup" in result.stderr
    assert not (PROJECT_DIR / "injected").exists()
