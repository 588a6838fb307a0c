"""`just restore-service` against the local cluster, as far as it goes without pods.

The dev layout of one service is laid out by hand on a cluster the program deployed Velero onto:
Loki's local PV (pinned to the node, as WorkloadStorage makes it), its claim and its StatefulSet
(kwok runs the pod), and a stand-in for the KIND node container, holding the volume's directory.
The recipe scales Loki down, deletes and frees the claim, empties the directory in the "node",
restores the claim from a real backup with a real Velero, and scales Loki back. What it cannot
show here: the file-system restore of the volume's data (no kubelet, no node agent).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from realtier import images, toolchain
from realtier.localstack import LocalStack

from ..harness import PROJECT_DIR
from . import kube
from .roundtrip import APP, STACK, make_environment

SERVICE = "loki"


def local_volume(node: str) -> list[dict]:
    claim = f"{SERVICE}-storage"
    labels = {"app": SERVICE, "component": "observability"}
    return [
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"{APP}-{claim}", "labels": labels},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "brrtrouter-local",
                  "persistentVolumeReclaimPolicy": "Retain", "local": {"path": f"/mnt/{SERVICE}-data"},
                  "claimRef": {"namespace": APP, "name": claim},
                  "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                      {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim, "namespace": APP, "labels": labels},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "brrtrouter-local", "volumeName": f"{APP}-{claim}",
                  "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": SERVICE, "namespace": APP, "labels": labels},
         "spec": {"replicas": 1, "serviceName": SERVICE, "selector": {"matchLabels": {"app": SERVICE}},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "containers": [{"name": SERVICE, "image": "grafana/loki:3.5.0",
                                      "volumeMounts": [{"name": "data", "mountPath": "/loki"}]}],
                      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}}}},
    ]


def create(api, obj: dict) -> None:
    path = kube.object_path(api, obj["apiVersion"], obj["kind"], "x", obj["metadata"].get("namespace"))
    api.create(path.rsplit("/", 1)[0], obj)


@pytest.fixture(scope="module")
def dev_like(docker, run_id, tmp_path_factory):
    root = tmp_path_factory.mktemp("restore-service")
    node = f"{run_id}-control-plane"
    data = root / "node-data"
    data.mkdir()
    (data / "chunk-1").write_text("old data")
    (data / ".index").write_text("old index")
    images.ensure_loaded([images.MINIO_IMAGE])
    image = images.MINIO_IMAGE
    # The KIND node's stand-in: a container of that name with the volume's directory at /mnt/loki-data.
    subprocess.run(["docker", "run", "--detach", "--name", node, "--entrypoint", "/bin/sleep",
                    "--volume", f"{data}:/mnt/{SERVICE}-data", image, "3600"], check=True, capture_output=True)
    try:
        with LocalStack.start(root / "cluster", node_name=node) as cluster:
            env = make_environment(cluster, root / "round-trip")
            env.engine.up(STACK)
            for obj in local_volume(node):
                create(cluster.api, obj)
            api = cluster.api
            api.wait_for("loki's claim Bound", lambda: api.get(f"/api/v1/namespaces/{APP}/persistentvolumeclaims/"
                                                               f"{SERVICE}-storage")["status"].get("phase") == "Bound")
            velero = env.start_velero()
            velero.wait_for_location(api)
            env.cli("backup", "create", "loki-only", "--include-namespaces", APP, "--selector", f"app={SERVICE}",
                    "--default-volumes-to-fs-backup=false", "--wait")
            kubeconfig = root / "dev.kubeconfig"
            kubeconfig.write_text(cluster.kubeconfig_text((f"kind-{run_id}",)))
            yield env, kubeconfig, data
            env.stop_velero()
    finally:
        subprocess.run(["docker", "rm", "--force", node], capture_output=True)


def restore_service(run_id: str, kubeconfig, *args: str) -> subprocess.CompletedProcess:
    tools = toolchain.locate(("velero", "kubectl"))
    path = os.pathsep.join([str(tools["velero"].parent), str(tools["kubectl"].parent), os.environ["PATH"]])
    return subprocess.run(
        [str(PROJECT_DIR / ".venv" / "bin" / "just"), "--justfile", str(PROJECT_DIR / "justfile"),
         "--working-directory", str(PROJECT_DIR), f"context=kind-{run_id}", "restore-service", SERVICE, *args],
        env={**os.environ, "PATH": path, "KUBECONFIG": str(kubeconfig)}, capture_output=True, text=True, timeout=300)


def test_another_cluster_is_refused_before_anything_changes(dev_like, run_id):
    env, kubeconfig, data = dev_like
    other = kubeconfig.with_name("other.kubeconfig")
    other.write_text(env.cluster.kubeconfig_text(("kind-elsewhere",)))
    result = restore_service("elsewhere", other, "", "--yes")
    assert result.returncode != 0
    assert "has no node elsewhere-control-plane: not the dev cluster" in result.stderr
    assert sorted(p.name for p in data.iterdir()) == [".index", "chunk-1"]


def test_restore_service_frees_empties_restores_and_scales_back(dev_like, run_id):
    env, kubeconfig, data = dev_like
    api = env.api
    before = api.get(f"/api/v1/namespaces/{APP}/persistentvolumeclaims/{SERVICE}-storage")["metadata"]["uid"]
    result = restore_service(run_id, kubeconfig, "", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restored loki from loki-only as loki-restore-" in result.stdout and "phase Completed" in result.stdout
    assert list(data.iterdir()) == []  # emptied in the "node", dot files too
    claim = api.get(f"/api/v1/namespaces/{APP}/persistentvolumeclaims/{SERVICE}-storage")
    assert claim["metadata"]["uid"] != before  # a new claim, from the backup
    api.wait_for("the restored claim Bound to the same local PV", lambda: api.get(
        f"/api/v1/namespaces/{APP}/persistentvolumeclaims/{SERVICE}-storage")["status"].get("phase") == "Bound")
    assert api.get(f"/apis/apps/v1/namespaces/{APP}/statefulsets/{SERVICE}")["spec"]["replicas"] == 1
