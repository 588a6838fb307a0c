"""scripts/backup-restore (just backup-restore) against stand-ins for kubectl and velero: the restore's
name and arguments, and what it says when Velero's records show the restore did not complete."""

from __future__ import annotations

import datetime as dt
import json
import re

BACKUP = "brrtrouter-complete-20261124020000"


def pod_volume_restore(pod: str, phase: str, message: str = "") -> dict:
    return {"spec": {"pod": {"namespace": "brrtrouter-dev", "name": pod}, "volume": "data"},
            "status": {"phase": phase, "message": message}}


def answers(phase: str, volumes: list[dict] = ()) -> dict:
    return {
        "velero": [["restore create", f"Restore completed with status: {phase}.\n", 0]],
        "kubectl": [
            ["get restores.velero.io", json.dumps({"status": {"phase": phase, "errors": 2, "warnings": 1}}), 0],
            ["get podvolumerestores.velero.io", json.dumps({"items": list(volumes)}), 0],
        ],
    }


def restore_created(calls: list[str]) -> str:
    created = [call for call in calls if call.startswith("velero ") and " restore create " in call]
    assert len(created) == 1, calls
    return created[0]


def test_the_restore_is_named_for_the_backup_and_the_utc_time_and_completes(tools, monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # far from UTC: the name must still carry UTC
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    result, calls = tools("backup-restore", BACKUP, answers=answers("Completed"))
    after = dt.datetime.now(dt.timezone.utc)
    assert result.returncode == 0, result.stderr
    assert "Restore completed with status: Completed." in result.stdout
    found = re.fullmatch(r"velero --kubecontext kind-brrtrouter-dev --namespace velero restore create "
                         rf"restore-{BACKUP}-(\d{{8}}-\d{{6}}) --from-backup {BACKUP} --wait", restore_created(calls))
    assert found, calls
    assert before <= dt.datetime.strptime(found[1], "%Y%m%d-%H%M%S").replace(tzinfo=dt.timezone.utc) <= after
    assert not any("podvolumerestores" in call for call in calls)  # nothing to explain


def test_a_mapping_goes_to_velero_as_one_argument(tools):
    result, calls = tools("backup-restore", BACKUP, "brrtrouter-dev:drill; touch injected", answers=answers("Completed"))
    assert result.returncode == 0, result.stderr
    assert restore_created(calls).endswith(f"--from-backup {BACKUP} --namespace-mappings brrtrouter-dev:drill; touch injected --wait")


def test_volumes_the_repository_refused_for_its_password_get_what_to_do(tools):
    refused = "error to initialize data path: error to boost backup repository connection: invalid repository password"
    volumes = [pod_volume_restore("postgres-1", "Failed", refused), pod_volume_restore("grafana-1", "Failed", refused),
               pod_volume_restore("redis-1", "Completed")]
    result, calls = tools("backup-restore", BACKUP, answers=answers("PartiallyFailed", volumes))
    assert result.returncode == 1
    name = restore_created(calls).split()[7]
    message = result.stderr
    assert f"restore {name} ended PartiallyFailed (2 errors, 1 warnings)" in message
    assert "The file-system data of 2 volume(s) was not restored" in message
    assert "does not open with this stack's repository password (veleroRepositoryPassword)" in message
    assert "pulumi config set --secret veleroRepositoryPassword -- '<password>'" in message
    assert f"kubectl --context kind-brrtrouter-dev delete all --all-namespaces -l velero.io/restore-name={name}" in message
    assert '"Keeping the repository password"' in message
    assert any(f"get podvolumerestores.velero.io -l velero.io/restore-name={name}" in call for call in calls)


def test_other_failed_volumes_are_named_with_velero_s_message(tools):
    volumes = [pod_volume_restore("loki-1", "Failed", "no space left on device")]
    result, _ = tools("backup-restore", BACKUP, answers=answers("PartiallyFailed", volumes))
    assert result.returncode == 1
    assert "brrtrouter-dev/loki-1 volume data: no space left on device" in result.stderr
    assert "repository password" not in result.stderr
    assert "More: velero restore describe restore-" in result.stderr


def test_a_velero_that_fails_is_reported_as_such(tools):
    answer = answers("Completed")
    answer["velero"] = [["restore create", "An error occurred: backups.velero.io \"nope\" not found\n", 1]]
    result, calls = tools("backup-restore", "nope", answers=answer)
    assert result.returncode == 1
    assert "backup-restore: velero --kubecontext kind-brrtrouter-dev --namespace ... failed: An error occurred" in result.stderr
    assert not any(call.startswith("kubectl") for call in calls)
