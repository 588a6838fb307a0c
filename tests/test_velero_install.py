"""VeleroInstall: namespace, credentials, the kopia repository password, and the chart's values."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components import VeleroInstall, VeleroInstallArgs
from config.charts import ChartSource
from config.versions import split_image

from .fixtures import MINIO_BACKEND
from .harness import run

BACKEND = MINIO_BACKEND
ARGS = VeleroInstallArgs(
    namespace="velero",
    chart=ChartSource("repository", "https://vmware-tanzu.github.io/helm-charts", "12.1.0"),
    image=split_image("velero/velero:v1.18.1"),
    backend=BACKEND,
    repository_password="repository-password-from-config-0123",
    monitoring="annotations",
)
CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "kubernetes:core/v1:Secret"


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


def test_the_charts_crds_are_kept_on_destroy_and_nothing_else():
    from components.velero_install import keep_custom_resource_definitions

    def transformed(type_):
        args = pulumi.ResourceTransformArgs(custom=True, type_=type_, name="x", props={"a": 1},
                                            opts=pulumi.ResourceOptions(protect=False))
        return keep_custom_resource_definitions(args)

    kept = transformed("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
    assert kept.opts.retain_on_delete is True and kept.props == {"a": 1}
    assert transformed("kubernetes:apps/v1:Deployment") is None
    assert transformed("kubernetes:velero.io/v1:Schedule") is None


def test_the_chart_registers_the_crd_keeping_transform(built):
    # The SDK sends a transform as a callback reference on the chart's registration.
    assert built.one(CHART).raw_transforms
