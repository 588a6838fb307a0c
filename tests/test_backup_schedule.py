"""BackupSchedule: catalogue entries as velero.io/v1 Schedules."""

from __future__ import annotations

import pytest

from velero_pulumi.components import BackupSchedule, BackupScheduleArgs
from velero_pulumi.config.catalogue import load_catalogue
from velero_pulumi.config.problems import Problems

from .harness import PROJECT_DIR, run
from .schemas import crd_errors, manifest

SCHEDULE = "kubernetes:velero.io/v1:Schedule"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(Problems(), "catalogue", PROJECT_DIR / "config" / "catalogue.yaml")


def build(catalogue, name, parallel_files_upload=0):
    holder = {}
    schedule = next(s for s in catalogue.schedules if s.name == name)
    args = BackupScheduleArgs(
        schedule=schedule,
        hooks={hook.name: hook for hook in catalogue.hooks},
        velero_namespace="velero",
        app_namespace="brrtrouter-dev",
        storage_location="default",
        parallel_files_upload=parallel_files_upload,
        labels={"team": "platform"},
    )

    def program():
        holder["component"] = BackupSchedule(f"schedule-{name}", args)

    result = run(program)
    return result.one(SCHEDULE), holder["component"]


def test_schedule_lives_in_veleros_namespace_under_its_name(catalogue):
    resource, _ = build(catalogue, "prometheus-data")
    metadata = resource.values["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("prometheus-data", "velero")
    assert metadata["labels"] == {"team": "platform", "brrtrouter.io/schedule": "prometheus-data"}
    assert resource.values["apiVersion"] == "velero.io/v1" and resource.values["kind"] == "Schedule"


def test_service_schedule_selects_the_service_and_copies_its_volumes(catalogue):
    resource, _ = build(catalogue, "observability-stack")
    spec = resource.values["spec"]
    assert spec["schedule"] == "30 */6 * * *"
    template = spec["template"]
    assert template["includedNamespaces"] == ["brrtrouter-dev"]
    assert template["labelSelector"] == {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["prometheus", "loki", "grafana", "jaeger"]}]
    }
    assert "includedResources" not in template  # pods stay in scope
    assert template["defaultVolumesToFsBackup"] is True
    assert template["snapshotVolumes"] is False
    assert template["ttl"] == "168h"
    assert template["storageLocation"] == "default"


def test_postgres_hooks_run_in_the_postgres_container(catalogue):
    resource, _ = build(catalogue, "postgres-database")
    [entry] = resource.values["spec"]["template"]["hooks"]["resources"]
    assert entry["name"] == "postgres"
    assert entry["includedNamespaces"] == ["brrtrouter-dev"]
    assert entry["labelSelector"] == {"matchLabels": {"app": "postgres"}}
    [pre] = entry["pre"]
    [post] = entry["post"]
    assert pre["exec"]["container"] == "postgres" and "pg_dump" in pre["exec"]["command"][2]
    assert (pre["exec"]["onError"], pre["exec"]["timeout"]) == ("Fail", "10m")
    assert "tail -n +6" in post["exec"]["command"][2]


def test_complete_backup_carries_every_hook_by_service(catalogue):
    resource, _ = build(catalogue, "brrtrouter-complete")
    entries = resource.values["spec"]["template"]["hooks"]["resources"]
    assert [(e["name"], len(e.get("pre", [])), len(e.get("post", []))) for e in entries] == [
        ("postgres", 1, 1),
        ("redis", 1, 0),
    ]
    assert "labelSelector" not in resource.values["spec"]["template"]


def test_configuration_backs_up_only_configmaps_and_secrets(catalogue):
    resource, _ = build(catalogue, "configuration")
    template = resource.values["spec"]["template"]
    assert template["includedResources"] == ["configmaps", "secrets"]
    assert template["defaultVolumesToFsBackup"] is False
    assert "hooks" not in template


def test_disaster_recovery_includes_cluster_resources(catalogue):
    resource, _ = build(catalogue, "disaster-recovery")
    assert resource.values["spec"]["template"]["includeClusterResources"] is True
    assert resource.values["spec"]["template"]["ttl"] == "8760h"


def test_pre_upgrade_is_a_paused_template(catalogue):
    resource, component = build(catalogue, "pre-upgrade")
    assert resource.values["spec"]["paused"] is True
    assert component.summary["paused"] is True


def test_owner_references_off_and_skip_immediately_drift_ignored(catalogue):
    resource, _ = build(catalogue, "redis-cache")
    assert resource.values["spec"]["useOwnerReferencesInBackup"] is False
    assert "skipImmediately" not in resource.values["spec"]
    assert resource.ignore_changes == ["spec.skipImmediately"]
    assert resource.delete_before_replace  # a fixed name: a replacement deletes it first


def test_summary(catalogue):
    _, component = build(catalogue, "grafana-dashboards")
    assert component.summary == {
        "name": "grafana-dashboards",
        "cron": "30 3 * * *",
        "ttl": "2160h",
        "retentionDays": 90.0,
        "paused": False,
        "scope": "namespace brrtrouter-dev; services grafana; volume data",
    }


def test_kopias_parallel_uploads_go_on_schedules_that_carry_volume_data(catalogue):
    resource, _ = build(catalogue, "prometheus-data", parallel_files_upload=8)
    template = resource.values["spec"]["template"]
    assert template["uploaderConfig"] == {"parallelFilesUpload": 8}
    assert crd_errors(manifest(resource.values)) == []
    # Nothing to upload without volume data; 0 leaves kopia's default (the node's CPUs).
    assert "uploaderConfig" not in build(catalogue, "configuration", 8)[0].values["spec"]["template"]
    assert "uploaderConfig" not in build(catalogue, "prometheus-data")[0].values["spec"]["template"]
