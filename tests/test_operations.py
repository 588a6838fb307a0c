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


def cluster_state(location_phase: str) -> dict:
    items = [
        {"kind": "BackupStorageLocation", "metadata": {"name": "default"}, "status": {"phase": location_phase}},
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
    ):
        assert line in out
    assert any("kubectl --context kind-brrtrouter-dev get --raw /readyz" in call for call in calls)


def test_doctor_fails_on_an_unavailable_location_and_a_missing_minio(tools):
    answers = {**PREREQUISITES, **cluster_state("Unavailable"), "curl": [["minio", "", 7]]}
    result, _ = tools("doctor", answers=answers)
    assert result.returncode == 1
    assert "FAIL: MinIO does not answer at http://localhost:9000" in result.stdout
    assert "FAIL: storage location default is Unavailable" in result.stdout


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
