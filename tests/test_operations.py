"""scripts/doctor and scripts/restore-drill against stand-ins for kubectl, velero, curl, pulumi, docker and kind.

Each stand-in logs its arguments and answers from a table of (argument substring -> output, exit code).
"""

from __future__ import annotations

import json
import re


def backup(name, schedule, phase, completed):
    return {
        "kind": "Backup",
        "metadata": {"name": name, "labels": {"velero.io/schedule-name": schedule}},
        "status": {"phase": phase, "completionTimestamp": completed},
    }


PREREQUISITES = {
    "pulumi": [["version", "v3.272.0\n", 0]],
    "docker": [["version", "28.2.2\n", 0]],
    "kind": [["version", "kind v0.30.0 go1.24.6 linux/amd64\n", 0]],
    "velero": [["version", "Client:\n\tVersion: v1.18.1\n", 0]],
    "curl": [["minio/health/live", "", 0]],
}


def probe_volume(phase: str, message: str = "") -> str:
    """The password probe's PodVolumeBackup, as kubectl lists it."""
    return json.dumps({"items": [{"status": {"phase": phase, "message": message}}]})


def cluster_state(location_phase: str, message: str | None = None, probe: str | None = None,
                  extra: tuple[dict, ...] = (), probe_phase: str = "Completed") -> dict:
    status = {"phase": location_phase, **({"message": message} if message else {})}
    items = [*extra,
        {"kind": "BackupStorageLocation", "metadata": {"name": "default"}, "status": status},
        {"kind": "Schedule", "metadata": {"name": "loki-logs"}, "spec": {}},
        {"kind": "Schedule", "metadata": {"name": "pre-upgrade"}, "spec": {"paused": True}},
        backup("loki-logs-20261123120000", "loki-logs", "Completed", "2026-11-23T12:03:00Z"),
        backup("loki-logs-20261124000000", "loki-logs", "Completed", "2026-11-24T00:02:00Z"),
        backup("loki-logs-20261124120000", "loki-logs", "PartiallyFailed", "2026-11-24T12:05:00Z"),
    ]
    return {
        "kubectl": [
            ["get --raw /readyz", "ok", 0],
            ["get deployment velero", "1", 0],
            ["get daemonset node-agent", "1/1", 0],
            ["get backupstoragelocations,schedules,backups", json.dumps({"items": items}), 0],
            ["get podvolumebackups.velero.io", probe or probe_volume("Completed"), 0],
            ["get backups.velero.io password-probe-", json.dumps({"status": {"phase": probe_phase}}), 0],
        ]
    }


def test_doctor_reports_every_check_and_the_last_successful_backup(tools):
    result, calls = tools("doctor", answers={**PREREQUISITES, **cluster_state("Available")})
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in (
        "ok: pulumi 3.272.0", "ok:   MinIO answers", "ok:   the API server is ready", "ok:   the Velero server is ready",
        "ok:   node agents ready: 1/1", "ok:   storage location default is Available",
        "loki-logs: last successful backup 2026-11-24T00:02:00Z", "pre-upgrade (paused): last successful backup none yet",
        "ok:   the kopia repository opens with this stack's password (a probe backup wrote to it)",
    ):
        assert line in out
    assert any("kubectl --context kind-brrtrouter-dev get --raw /readyz" in call for call in calls)
    # The probe: a pod with an emptyDir in the application's namespace, backed up and then removed.
    probe = [call for call in calls if "password-probe" in call]
    assert any(call.startswith("velero ") and " backup create password-probe-" in call and "--include-namespaces "
               "brrtrouter-dev --selector app=velero-password-probe --default-volumes-to-fs-backup" in call for call in probe)
    assert any(" backup delete password-probe-" in call for call in probe)
    assert any("delete pod velero-password-probe" in call for call in calls)


def test_doctor_finds_a_repository_password_that_does_not_open_the_backups(tools):
    refused = "error to initialize data path: error to boost backup repository connection: invalid repository password"
    answers = {**PREREQUISITES, **cluster_state("Available", probe=probe_volume("Failed", refused))}
    result, _ = tools("doctor", answers=answers)
    assert result.returncode == 1
    out = result.stdout
    assert ("FAIL: the repository password does not open the backups: the kopia repository in the bucket does not "
            "open with this stack's repository password (veleroRepositoryPassword)") in out
    assert "1. set the password they were made with: pulumi config set --secret veleroRepositoryPassword" in out
    assert "2. run just doctor again." in out and '"Keeping the repository password"' in out


def test_doctor_fails_on_an_unavailable_location_and_a_missing_minio(tools):
    reason = 'BackupStorageLocation "default" is unavailable: dial tcp: lookup brrtrouter-minio: no such host'
    answers = {**PREREQUISITES, **cluster_state("Unavailable", reason), "curl": [["minio", "", 7]]}
    result, _ = tools("doctor", answers=answers)
    assert result.returncode == 1
    assert "FAIL: MinIO does not answer at http://localhost:9000" in result.stdout
    # Velero's own reason, as the location's status gives it.
    assert f"FAIL: storage location default is Unavailable: {reason} (velero backup-location get" in result.stdout


def volume_backup(name: str, phase: str) -> dict:
    return {"kind": "PodVolumeBackup", "status": {"phase": phase},
            "metadata": {"name": name, "namespace": "velero", "labels": {"velero.io/backup-name": "loki-logs-1"}},
            "spec": {"volume": "data", "pod": {"namespace": "brrtrouter-dev", "name": "loki-5d8f"}}}


def test_doctor_finds_a_volume_backup_whose_data_mover_pod_is_gone(tools):
    running = ({"kind": "Pod", "metadata": {"name": "loki-logs-1-abcde"}},)
    result, _ = tools("doctor", answers={**PREREQUISITES, **cluster_state(
        "Available", extra=(volume_backup("loki-logs-1-abcde", "InProgress"), *running))})
    assert result.returncode == 0 and "data mover pod is gone" not in result.stdout  # moving: its pod runs
    result, _ = tools("doctor", answers={**PREREQUISITES, **cluster_state(
        "Available", extra=(volume_backup("loki-logs-1-abcde", "InProgress"), volume_backup("loki-logs-1-fghij", "Completed")))})
    assert result.returncode == 1
    assert ("FAIL: the volume data of pod brrtrouter-dev/loki-5d8f (backup loki-logs-1) is InProgress but its data mover "
            "pod is gone") in result.stdout
    assert result.stdout.count("data mover pod is gone") == 1  # a completed one needs no pod
    assert ("kubectl -n velero rollout restart daemonset/node-agent; then kubectl -n velero rollout restart "
            "deployment/velero") in result.stdout
    assert "skip: the probe backup would wait behind the volume backup above" in result.stdout


def test_doctor_gives_up_on_a_probe_backup_queued_behind_another(tools, monkeypatch):
    monkeypatch.setenv("PROBE_TIMEOUT_SECONDS", "0")
    result, calls = tools("doctor", answers={**PREREQUISITES, **cluster_state("Available", probe_phase="Queued")})
    assert result.returncode == 1
    assert re.search(r"FAIL: the probe backup password-probe-\S+ did not finish within 0 s \(phase Queued\): Velero "
                     r"runs one backup at a time", result.stdout), result.stdout
    assert any(" backup delete password-probe-" in call for call in calls)  # it does not stay queued


def drill_answers(restore_phase: str = "Completed", pods_ready: bool = True) -> dict:
    backups = {"items": [
        backup("loki-logs-20261124000000", "loki-logs", "Completed", "2026-11-24T00:02:00Z"),
        backup("loki-logs-20261124120000", "loki-logs", "Failed", "2026-11-24T12:05:00Z"),
        backup("loki-logs-20261123120000", "loki-logs", "Completed", "2026-11-23T12:03:00Z"),
    ]}
    return {
        "kubectl": [
            ["get backups -l velero.io/schedule-name=loki-logs", json.dumps(backups), 0],
            ["get restores.velero.io", restore_phase, 0],
            ["wait --for=condition=Ready", "", 0 if pods_ready else 1],
            ["get pods,pvc", "pod/loki-0   1/1   Running\n", 0],
        ]
    }


def test_restore_drill_restores_the_latest_backup_into_a_scratch_namespace_and_cleans_up(tools):
    result, calls = tools("restore-drill", "loki", answers=drill_answers())
    assert result.returncode == 0, result.stdout + result.stderr
    [create] = [call for call in calls if call.startswith("velero") and " restore create " in call]
    scratch = re.search(r"restore create (drill-loki-\d{8}-\d{6}) ", create)[1]
    assert create.endswith(
        f"--from-backup loki-logs-20261124000000 --include-namespaces brrtrouter-dev "
        f"--namespace-mappings brrtrouter-dev:{scratch} --resource-modifier-configmap restore-drill-modifiers --wait"
    )
    assert f"kubectl --context kind-brrtrouter-dev -n {scratch} wait --for=condition=Ready pods --all --timeout=300s" in calls
    assert f"kubectl --context kind-brrtrouter-dev delete namespace {scratch} --ignore-not-found --wait=false" in calls
    assert "restore drill passed" in result.stdout
    assert "brrtrouter-dev" not in [call.split()[-1] for call in calls if " delete namespace " in call]


def test_restore_drill_fails_when_pods_do_not_come_up_and_still_cleans_up(tools):
    result, calls = tools("restore-drill", "loki", answers=drill_answers(pods_ready=False))
    assert result.returncode == 1
    assert "restore drill FAILED" in result.stderr
    assert any(" delete namespace drill-loki-" in call for call in calls)


def test_restore_drill_names_the_services_it_knows(tools):
    result, calls = tools("restore-drill", "mysql", answers=drill_answers())
    assert result.returncode != 0
    assert "no schedule backs up service 'mysql'" in result.stderr
    assert not any(call.startswith("velero") for call in calls)
