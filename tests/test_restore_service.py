"""scripts/restore-service (just restore-service) against stand-ins for kubectl, velero and docker:
the order of its steps, its refusals before any change, and arguments that stay arguments."""

from __future__ import annotations

import json

COMPLETED = "2026-11-24T00:02:00Z"


def backup(name: str, phase: str, completed: str, **spec) -> dict:
    return {"metadata": {"name": name}, "spec": {"includedNamespaces": ["brrtrouter-dev"], **spec},
            "status": {"phase": phase, "completionTimestamp": completed}}


BACKUPS = [
    backup("loki-logs-1", "Completed", "2026-11-23T12:00:00Z",
           labelSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["loki"]}]}),
    backup("brrtrouter-complete-1", "Completed", COMPLETED),
    backup("loki-logs-2", "PartiallyFailed", "2026-11-24T12:00:00Z",
           labelSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["loki"]}]}),
    backup("prometheus-data-1", "Completed", "2026-11-25T00:00:00Z",
           labelSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["prometheus"]}]}),
    backup("configuration-1", "Completed", "2026-11-25T01:00:00Z", includedResources=["configmaps", "secrets"]),
]


def answers(backups=BACKUPS, node: bool = True) -> dict:
    return {
        "kubectl": [
            ["get node brrtrouter-dev-control-plane", "node/brrtrouter-dev-control-plane" if node else "", 0 if node else 1],
            ["get backups.velero.io", json.dumps({"items": backups}), 0],
            ["get deployments,statefulsets", json.dumps({"items": [
                {"kind": "StatefulSet", "metadata": {"name": "loki"}, "spec": {"replicas": 2}}]}), 0],
            ["get restores.velero.io", json.dumps({"status": {"phase": "Completed", "progress": {"itemsRestored": 7}}}), 0],
        ],
    }


def steps(calls: list[str]) -> list[str]:
    """What the script changed: every call but kubectl's reads."""
    return [call for call in calls if not (call.startswith("kubectl") and " get " in call)]


def test_it_restores_the_newest_backup_that_holds_the_service_in_order(tools):
    result, calls = tools("restore-service", "loki", "--yes", answers=answers())
    assert result.returncode == 0, result.stderr
    context = "kubectl --context kind-brrtrouter-dev"
    done = steps(calls)
    assert done[:5] == [
        f"{context} -n brrtrouter-dev delete statefulset/loki --wait=true",
        f"{context} -n brrtrouter-dev wait --for=delete pod -l app=loki --timeout=120s",
        f"{context} -n brrtrouter-dev delete pvc loki-storage --ignore-not-found --wait=true",
        f'{context} patch pv brrtrouter-dev-loki-storage --type json -p [{{"op": "remove", "path": "/spec/claimRef/uid"}}, '
        '{"op": "remove", "path": "/spec/claimRef/resourceVersion"}]',
        "docker exec brrtrouter-dev-control-plane sh -c rm -rf /mnt/loki-data/* /mnt/loki-data/.[!.]* /mnt/loki-data/..?*",
    ]
    # The whole-namespace backup is newer than loki's own completed one; the failed one is left out.
    assert done[5].startswith("velero --kubecontext kind-brrtrouter-dev --namespace velero restore create loki-restore-")
    assert done[5].endswith("--from-backup brrtrouter-complete-1 --include-namespaces brrtrouter-dev --selector app=loki --wait")
    assert len(done) == 6  # nothing scaled back: the workloads come back from the backup
    assert "restored loki from brrtrouter-complete-1 as loki-restore-" in result.stdout
    assert "phase Completed, 7 items, workloads statefulset/loki" in result.stdout


def test_a_named_backup_is_used_if_it_holds_the_service(tools):
    result, calls = tools("restore-service", "loki", "loki-logs-1", "--yes", answers=answers())
    assert result.returncode == 0, result.stderr
    assert any("--from-backup loki-logs-1 " in call for call in calls)
    result, calls = tools("restore-service", "loki", "prometheus-data-1", "--yes", answers=answers())
    assert result.returncode == 1
    assert "backup 'prometheus-data-1' is not a completed backup that holds loki" in result.stderr


def refused(tools, *args, **answer_options) -> tuple[str, list[str]]:
    result, calls = tools("restore-service", *args, answers=answers(**answer_options))
    assert result.returncode == 1
    assert steps(calls) == [], steps(calls)  # refused before any change
    return result.stderr, calls


def test_a_service_with_its_data_in_pod_volumes_loses_only_its_workloads_before_the_restore(tools):
    answer = answers()
    answer["kubectl"][2] = ["get deployments,statefulsets", json.dumps({"items": [
        {"kind": "Deployment", "metadata": {"name": "postgres"}, "spec": {"replicas": 1}}]}), 0]
    result, calls = tools("restore-service", "postgres", "--yes", answers=answer)
    assert result.returncode == 0, result.stderr
    context = "kubectl --context kind-brrtrouter-dev"
    done = steps(calls)
    # No claim, no PV, no node path: Postgres' data is in its pod's own volume, restored with the pod.
    assert done[:2] == [f"{context} -n brrtrouter-dev delete deployment/postgres --wait=true",
                        f"{context} -n brrtrouter-dev wait --for=delete pod -l app=postgres --timeout=120s"]
    assert done[2].endswith("--from-backup brrtrouter-complete-1 --include-namespaces brrtrouter-dev --selector app=postgres --wait")
    assert len(done) == 3
    assert "its pods' volumes go with them" in result.stdout


def test_an_unknown_service_is_refused_naming_the_known_ones(tools):
    message, calls = refused(tools, "petstore", "--yes")  # a service that keeps no data
    assert ("unknown service 'petstore': the services with data are prometheus, loki, grafana, jaeger, postgres, redis"
            in message)
    assert calls == []


def test_no_backup_holding_the_service_is_refused(tools):
    # Loki's and Prometheus' own schedules, and one of configuration only: none holds Grafana.
    own = [b for b in BACKUPS if b["metadata"]["name"] != "brrtrouter-complete-1"]
    message, _ = refused(tools, "grafana", "--yes", backups=own)
    assert "no completed backup holds grafana" in message


def test_another_cluster_than_the_dev_one_is_refused(tools):
    message, _ = refused(tools, "loki", "--yes", node=False)
    assert "has no node brrtrouter-dev-control-plane: not the dev cluster" in message
    result, calls = tools("restore-service", "loki", "--yes", answers=answers())
    assert result.returncode == 0


def test_without_yes_and_no_answer_nothing_is_changed(tools):
    message, _ = refused(tools, "loki")
    assert "not confirmed: nothing was changed (--yes to go ahead without asking)" in message


def test_a_backup_name_stays_one_argument(tools):
    result, calls = tools("restore-service", "loki", "x; touch injected", "--yes", answers=answers())
    assert result.returncode == 1
    assert "backup 'x; touch injected' is not a completed backup" in result.stderr
