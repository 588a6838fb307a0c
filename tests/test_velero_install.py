"""VeleroInstall: namespace, credentials, the kopia repository password, and the chart's values."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from velero_pulumi.components import VeleroInstall, VeleroInstallArgs
from velero_pulumi.config.charts import ChartSource
from velero_pulumi.config.settings import MaintenanceSettings, NodeAgentSettings
from velero_pulumi.config.versions import split_image

from .fixtures import CHART_CRDS, MINIO_BACKEND
from .harness import run

BACKEND = MINIO_BACKEND
ARGS = VeleroInstallArgs(
    namespace="velero",
    chart=ChartSource("repository", "https://vmware-tanzu.github.io/helm-charts", "12.1.0", CHART_CRDS),
    image=split_image("velero/velero:v1.18.1"),
    backend=BACKEND,
    repository_password="repository-password-from-config-0123",
    monitoring="annotations",
)
CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "kubernetes:core/v1:Secret"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def build(args: VeleroInstallArgs = ARGS):
    return run(lambda: VeleroInstall("velero", args))


@pytest.fixture
def built():
    return build()


def secret_named(result, name):
    return next(r for r in result.of_type(SECRET) if r.values["metadata"]["name"] == name)


def test_namespace_and_chart_release(built):
    namespace = built.one("kubernetes:core/v1:NamespacePatch")
    assert namespace.values["metadata"]["name"] == "velero"
    # Kept on destroy (it holds Velero's records), adopted on a reinstall.
    assert namespace.retain_on_delete
    chart = built.one(CHART).values
    assert (chart["chart"], chart["version"], chart["name"], chart["namespace"]) == ("velero", "12.1.0", "velero", "velero")
    assert chart["repositoryOpts"] == {"repo": "https://vmware-tanzu.github.io/helm-charts"}


def test_credentials_secret_is_the_aws_file_of_the_minio_user(built):
    secret = secret_named(built, "velero-credentials")
    assert secret.values["metadata"]["namespace"] == "velero"
    assert secret.secret("stringData")
    assert secret.values["stringData"] == {
        "cloud": "[default]\naws_access_key_id=velero\naws_secret_access_key=test-secret-key-0123456789\n"
    }


def test_the_repository_password_from_config_is_stored_secret_and_ready_before_velero(built):
    secret = secret_named(built, "velero-repo-credentials")
    assert secret.secret("stringData")
    assert secret.values["stringData"] == {"repository-password": "repository-password-from-config-0123"}
    # Nothing generated: a password made up here would not open the backups already in the bucket.
    assert built.of_type("random:index/randomPassword:RandomPassword") == []
    assert secret.urn in built.one(CHART).dependencies


def test_chart_values_install_server_node_agent_and_the_matching_plugin(built):
    values = built.one(CHART).values["values"]
    assert values["image"] == {"repository": "velero/velero", "tag": "v1.18.1", "pullPolicy": "IfNotPresent"}
    assert values["initContainers"] == [
        {
            "name": "velero-plugin-for-aws",
            "image": "velero/velero-plugin-for-aws:v1.14.3",
            "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
        }
    ]
    assert values["deployNodeAgent"] is True
    assert values["configuration"]["uploaderType"] == "kopia"
    assert values["credentials"] == {"useSecret": True, "existingSecret": "velero-credentials"}


def test_the_install_declares_the_image_and_plugins_it_gives_the_chart(built):
    # The policy pack reads these at preview: the chart, a remote component, shows it nothing.
    outputs = built.registered_outputs[built.one("brrtrouter:backup:VeleroInstall").urn]
    assert (outputs["veleroImage"], outputs["pluginImages"]) == (
        "velero/velero:v1.18.1", ["velero/velero-plugin-for-aws:v1.14.3"])


def test_chart_creates_no_locations_schedules_or_snapshotter_and_runs_no_hooks(built):
    values = built.one(CHART).values["values"]
    assert values["configuration"]["backupStorageLocation"] == []
    assert values["configuration"]["volumeSnapshotLocation"] == []
    assert "defaultVolumeSnapshotLocations" not in values["configuration"]
    assert values["snapshotsEnabled"] is False
    assert values["schedules"] == {}
    assert values["upgradeCRDs"] is False and values["cleanUpCRDs"] is False


def test_metrics_by_annotations_on_8085(built):
    metrics = built.one(CHART).values["values"]["metrics"]
    assert metrics["enabled"] is True
    assert metrics["podAnnotations"] == {
        "prometheus.io/scrape": "true", "prometheus.io/port": "8085", "prometheus.io/path": "/metrics",
    }
    assert metrics["serviceMonitor"] == {"enabled": False}


def test_metrics_by_service_monitor_with_the_operator():
    metrics = build(dataclasses.replace(ARGS, monitoring="prometheusOperator")).one(CHART).values["values"]["metrics"]
    assert metrics["serviceMonitor"] == {"enabled": True}
    assert metrics["podAnnotations"] == {}


def test_an_image_digest_reaches_the_chart():
    image = split_image("velero/velero:v1.18.1@sha256:" + "c" * 64)
    values = build(dataclasses.replace(ARGS, image=image)).one(CHART).values["values"]
    assert values["image"]["digest"] == "sha256:" + "c" * 64


def test_children_are_parented_to_the_component(built):
    component = built.one("brrtrouter:backup:VeleroInstall")
    assert all(r.parent == component.urn for r in built.registrations if r is not component)


def test_the_charts_crds_are_resources_of_the_install_kept_on_destroy(built):
    crds = built.of_type(CRD)
    assert sorted(r.values["metadata"]["name"] for r in crds) == sorted(c["metadata"]["name"] for c in CHART_CRDS)
    assert len(crds) == 13
    for resource in crds:
        crd = next(c for c in CHART_CRDS if c["metadata"]["name"] == resource.values["metadata"]["name"])
        assert {key: resource.values[key] for key in ("apiVersion", "kind", "metadata", "spec")} == crd
        # Deleting a CRD deletes every Backup and Restore record with it.
        assert resource.retain_on_delete


def test_the_crds_keep_the_urns_they_had_as_the_charts_children(built):
    # The name and parent the chart gave them: a stack made before they moved adopts them as they are.
    # (The engine's URN of the chart: the install's type chain, then the chart's type and name.)
    install = built.one("brrtrouter:backup:VeleroInstall").urn
    chart_urn = install.rsplit("::", 1)[0] + "$kubernetes:helm.sh/v4:Chart::velero-chart"
    for resource in built.of_type(CRD):
        name = resource.values["metadata"]["name"]
        assert resource.name == f"velero-chart:{name}"
        assert resource.aliases == [{"spec": {"name": f"velero-chart:{name}", "parentUrn": chart_urn}}]


def test_the_chart_skips_its_crds_and_waits_for_them(built):
    chart = built.one(CHART)
    assert chart.values["skipCrds"] is True
    assert {r.urn for r in built.of_type(CRD)} <= set(chart.dependencies)


def test_the_foundation_is_the_namespace_secrets_and_crds_not_the_chart():
    def program():
        install = VeleroInstall("velero", ARGS)
        return pulumi.Output.all(*(resource.urn for resource in install.foundation))

    result = run(lambda: pulumi.export("foundation", program()))
    expected = {r.urn for r in result.registrations
                if r.type in (CRD, SECRET, "kubernetes:core/v1:NamespacePatch", "kubernetes:core/v1:ConfigMap")}
    assert set(result.outputs["foundation"]) == expected and len(expected) == 13 + 4


def node_agent_objects(result):
    config_map = result.one("kubernetes:core/v1:ConfigMap", "velero-node-agent-config").values
    return json.loads(config_map["data"]["node-agent-config.json"]), result.one(CHART).values["values"]


def test_the_node_agent_reads_its_concurrency_from_a_configmap_made_before_it(built):
    config, values = node_agent_objects(built)
    assert config == {"loadConcurrency": {"globalConfig": 1}}  # Velero's own default
    assert values["nodeAgent"]["extraArgs"] == ["--node-agent-configmap=node-agent-config"]
    config_map = built.one("kubernetes:core/v1:ConfigMap", "velero-node-agent-config")
    assert config_map.values["metadata"]["namespace"] == "velero"
    assert config_map.urn in built.one(CHART).dependencies


def test_concurrency_and_data_mover_resources_reach_the_node_agent_and_roll_it():
    settings = NodeAgentSettings(load_concurrency=4, item_block_workers=1, parallel_files_upload=0,
                                 data_mover_cpu="1500m", data_mover_memory="1Gi")
    config, values = node_agent_objects(build(dataclasses.replace(ARGS, node_agent=settings)))
    assert config == {
        "loadConcurrency": {"globalConfig": 4},
        "podResources": {"cpuRequest": "1500m", "cpuLimit": "1500m", "memoryRequest": "1Gi", "memoryLimit": "1Gi"},
    }
    # The node agent reads the ConfigMap once, at start: a changed one changes the pods' hash.
    _, default_values = node_agent_objects(build())
    hash_key = "brrtrouter.io/node-agent-config-sha256"
    assert values["podAnnotations"][hash_key] != default_values["podAnnotations"][hash_key]


def test_the_server_is_ready_as_soon_as_it_answers(built):
    values = built.one(CHART).values["values"]
    assert values["readinessProbe"] == {"initialDelaySeconds": 2, "periodSeconds": 5}


def test_the_server_backs_up_as_many_pods_at_once_as_asked():
    settings = NodeAgentSettings(load_concurrency=2, item_block_workers=4, parallel_files_upload=0,
                                 data_mover_cpu=None, data_mover_memory=None)
    values = build(dataclasses.replace(ARGS, node_agent=settings)).one(CHART).values["values"]
    assert values["configuration"]["itemBlockWorkerCount"] == 4


def test_expiry_and_maintenance_run_as_often_as_asked(built):
    configuration = built.one(CHART).values["values"]["configuration"]
    assert configuration.items() >= {"garbageCollectionFrequency": "1h", "defaultRepoMaintainFrequency": "1h"}.items()
    maintenance = MaintenanceSettings(garbage_collection_frequency="10s", repository_maintenance_frequency="5m")
    values = build(dataclasses.replace(ARGS, maintenance=maintenance)).one(CHART).values["values"]
    assert values["configuration"]["garbageCollectionFrequency"] == "10s"
    assert values["configuration"]["defaultRepoMaintainFrequency"] == "5m"
