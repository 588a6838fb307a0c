"""WorkloadStorage: local PVs on the KIND node, each pre-bound to its PVC."""

from __future__ import annotations

import pytest

from velero_pulumi.components import WorkloadStorage, WorkloadStorageArgs
from velero_pulumi.config import DataVolume

from .harness import run

VOLUMES = (
    DataVolume("prometheus", "brrtrouter-prometheus-data", "5Gi", "/mnt/prometheus-data", "prometheus-storage", "observability"),
    DataVolume("jaeger", "brrtrouter-jaeger-data", "2Gi", "/mnt/jaeger-data", "jaeger-storage", None),
)
PV = "kubernetes:core/v1:PersistentVolume"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"


@pytest.fixture
def built():
    args = WorkloadStorageArgs(
        namespace="brrtrouter-dev",
        storage_class_name="brrtrouter-local",
        node_name="brrtrouter-dev-control-plane",
        volumes=VOLUMES,
        labels={"team": "platform"},
    )
    return run(lambda: WorkloadStorage("workload-storage", args))


def pv(result, service):
    return result.one(PV, f"workload-storage-{service}-pv").values


def pvc(result, service):
    return result.one(PVC, f"workload-storage-{service}-pvc").values


def test_a_storage_class_without_provisioner_and_no_namespace_of_its_own(built):
    # The namespace is the ApplicationNamespace's: the program makes it, retained.
    assert built.of_type("kubernetes:core/v1:Namespace") == []
    storage_class = built.one("kubernetes:storage.k8s.io/v1:StorageClass").values
    assert storage_class["metadata"]["name"] == "brrtrouter-local"
    assert storage_class["provisioner"] == "kubernetes.io/no-provisioner"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class["reclaimPolicy"] == "Retain"


def test_each_volume_is_a_local_pv_on_the_kind_node(built):
    spec = pv(built, "prometheus")["spec"]
    assert spec["local"] == {"path": "/mnt/prometheus-data"}
    assert "hostPath" not in spec
    assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["brrtrouter-dev-control-plane"]}]}
    ]
    assert spec["capacity"] == {"storage": "5Gi"}
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["storageClassName"] == "brrtrouter-local"


def test_pv_and_pvc_bind_to_each_other_only(built):
    volume = pv(built, "jaeger")
    claim = pvc(built, "jaeger")
    assert volume["spec"]["claimRef"] == {"namespace": "brrtrouter-dev", "name": "jaeger-storage"}
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"] == "brrtrouter-dev-jaeger-storage"
    assert claim["metadata"]["namespace"] == "brrtrouter-dev"
    assert claim["spec"]["resources"] == {"requests": {"storage": "2Gi"}}
    assert claim["spec"]["storageClassName"] == "brrtrouter-local"


def test_claims_carry_the_service_labels_schedules_select(built):
    assert pvc(built, "prometheus")["metadata"]["labels"] == {
        "team": "platform", "app": "prometheus", "component": "observability",
    }
    assert pvc(built, "jaeger")["metadata"]["labels"] == {"team": "platform", "app": "jaeger"}
    assert pvc(built, "prometheus")["metadata"]["name"] == "prometheus-storage"


def test_claims_wait_for_their_volume(built):
    claim = built.one(PVC, "workload-storage-prometheus-pvc")
    assert built.one(PV, "workload-storage-prometheus-pv").urn in claim.dependencies


def test_claims_and_volumes_are_kept_on_delete_and_the_storage_class_is_not(built):
    # A claim the application's pods use cannot be deleted until they stop: destroy must not wait on it.
    for service in ("prometheus", "jaeger"):
        assert built.one(PVC, f"workload-storage-{service}-pvc").retain_on_delete
        assert built.one(PV, f"workload-storage-{service}-pv").retain_on_delete
    assert not built.one("kubernetes:storage.k8s.io/v1:StorageClass", "workload-storage-class").retain_on_delete
