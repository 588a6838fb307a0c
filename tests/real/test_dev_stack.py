"""The dev stack for real: `./scripts/up --yes`, the README's first command, makes a real kind
cluster (kind v0.30.0, the node image built here: Debian's systemd and containerd, kubelet
v1.34.4), MinIO beside it on the stack's Docker network, and Velero with its node agent running as
real pods from the official chart. Only the machine's part of the config differs from the committed
Pulumi.dev.yaml (devstack.MACHINE_CONFIG). The tests run in file order on one stack; the last one
destroys it and checks that nothing of it is left.

The names are the dev stack's own (brrtrouter-minio, brrtrouter-kind, ...): where a dev stack of
this machine's user already holds them, the tests refuse to start."""

from __future__ import annotations

import re
import secrets
import socket

import pytest

from .devstack import (APP, CLUSTER, DATA_VOLUMES, MINIO, NETWORK, NODE, SERVICES, STACK, VOLUMES, container,
                       dev_stack_up, docker_cli, exists, taken_names, volume_mountpoint)


@pytest.fixture(scope="module")
def dev(docker, tmp_path_factory):
    with dev_stack_up(tmp_path_factory.mktemp("dev-stack")) as stack:
        yield stack


def test_1_the_node_runs_the_built_image_beside_minio_with_the_data_volumes_mounted(dev):
    node = container(NODE)
    assert node["Config"]["Image"] == dev.node_image
    assert node["State"]["Running"] and node["HostConfig"]["Privileged"]
    assert set(node["NetworkSettings"]["Networks"]) == {NETWORK}
    assert NETWORK in container(MINIO)["NetworkSettings"]["Networks"]
    mounts = {mount["Destination"]: mount["Source"] for mount in node["Mounts"]}
    for service, volume in zip(SERVICES, DATA_VOLUMES):
        assert mounts[f"/mnt/{service}-data"] == str(volume_mountpoint(volume))


def test_2_the_node_is_a_real_kubelet_and_coredns_is_ready(dev):
    info = dev.api.get(f"/api/v1/nodes/{NODE}")["status"]["nodeInfo"]
    assert info["kubeletVersion"] == re.search(r":(v\d+\.\d+\.\d+)", dev.node_image)[1]  # v1.34.4 when built here
    assert info["containerRuntimeVersion"].startswith("containerd://")
    coredns = dev.api.get("/apis/apps/v1/namespaces/kube-system/deployments/coredns")
    assert coredns["status"].get("readyReplicas") == coredns["spec"]["replicas"] == 2


def test_3_velero_and_its_node_agent_run_as_real_containers_without_restarts(dev):
    deployment = dev.api.get("/apis/apps/v1/namespaces/velero/deployments/velero")
    assert deployment["status"].get("readyReplicas") == 1
    agent = dev.api.get("/apis/apps/v1/namespaces/velero/daemonsets/node-agent")
    assert agent["status"]["numberReady"] == agent["status"]["desiredNumberScheduled"] == 1
    pods = dev.api.items("/api/v1/namespaces/velero/pods")
    server = [pod for pod in pods if pod["metadata"]["name"].startswith("velero-")]
    assert len(server) == 1 and len(pods) == 2
    plugin = server[0]["status"]["initContainerStatuses"]
    assert [status["image"] for status in plugin] == [f"docker.io/{dev.plugin_image}"]
    assert plugin[0]["state"]["terminated"]["reason"] == "Completed" and plugin[0]["state"]["terminated"]["exitCode"] == 0
    for pod in pods:
        for status in pod["status"]["containerStatuses"]:
            assert status["ready"] and status["restartCount"] == 0, status
            assert status["containerID"].startswith("containerd://")  # a real container, not a fake node's


def test_4_the_location_is_available_through_the_clusters_dns(dev):
    location = dev.api.wait_for("the location Available", lambda: (
        dev.api.get("/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default")
        if dev.api.get("/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default")
        .get("status", {}).get("phase") == "Available" else None), timeout=120)
    assert location["spec"]["config"]["s3Url"] == f"http://{MINIO}:9000"
    # Nothing on the host resolves the name: only the cluster's DNS (CoreDNS, forwarding to
    # Docker's embedded DNS on the stack's network) does, for the Velero pod.
    with pytest.raises(OSError):
        socket.getaddrinfo(MINIO, 9000)
    log = dev.run_pod("resolve-minio", f"nslookup {MINIO} | tail -n 2; wget -q -O /dev/null -S http://{MINIO}:9000/minio/health/live 2>&1")
    assert "200 OK" in log, log


def test_5_the_claims_are_bound_and_a_file_written_in_each_lands_in_its_docker_volume(dev):
    for service, volume in zip(SERVICES, DATA_VOLUMES):
        claim = dev.api.get(f"/api/v1/namespaces/{APP}/persistentvolumeclaims/{service}-storage")
        assert claim["status"]["phase"] == "Bound"
        token = secrets.token_hex(8)
        dev.run_pod(f"write-{service}", f"echo {token} > /data/written-by-the-test", claim=f"{service}-storage")
        written = volume_mountpoint(volume) / "written-by-the-test"
        assert written.read_text().strip() == token
        written.unlink()


def test_6_a_backup_from_the_configuration_schedule_completes(dev):
    result = dev.velero("backup", "create", "configuration-now", "--from-schedule", "configuration", "--wait")
    assert "Backup completed with status: Completed" in result.stdout, result.stdout
    backup = dev.backups()["configuration-now"]
    assert backup["status"]["phase"] == "Completed"
    assert backup["spec"]["includedResources"] == ["configmaps", "secrets"]


def test_7_the_just_recipes_back_up_list_and_bring_back_a_deleted_configmap(dev):
    path = f"/api/v1/namespaces/{APP}/configmaps/petstore-settings"
    dev.api.create(f"/api/v1/namespaces/{APP}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "petstore-settings", "labels": {"app": "petstore"}},
        "data": {"greeting": "hello from before"}})
    dev.just("backup-now", "configuration")
    manual = [name for name in dev.backups() if re.fullmatch(r"configuration-manual-\d{8}-\d{6}", name)]
    assert len(manual) == 1 and dev.backups()[manual[0]]["status"]["phase"] == "Completed"
    assert manual[0] in dev.just("backup-list").stdout
    dev.api.delete(path)
    dev.api.wait_for("the ConfigMap gone", lambda: dev.api.find(path) is None)
    restored = dev.just("backup-restore", manual[0]).stdout
    assert "Restore completed with status: Completed" in restored, restored
    assert dev.api.get(path)["data"] == {"greeting": "hello from before"}


def test_8_no_change_after_up_or_after_a_refresh(dev):
    dev.engine.preview(STACK, "--expect-no-changes")
    dev.engine.run("refresh", "--stack", STACK, "--yes", "--skip-preview")
    dev.engine.preview(STACK, "--expect-no-changes")


def test_9_destroy_keeps_the_volumes_and_a_new_up_lists_the_backups_from_before(dev):
    before = set(dev.backups())
    first_node = container(NODE)["Id"]
    dev.engine.destroy(STACK)
    assert not exists("container", NODE) and not exists("container", MINIO)
    assert all(exists("volume", name) for name in VOLUMES)
    dev.up()
    assert container(NODE)["Id"] != first_node
    listed = dev.api.wait_for("the backups from before listed by the new cluster's Velero",
                              lambda: before <= set(dev.backups()), timeout=180, interval=3)
    assert listed
    got = dev.velero("backup", "get").stdout
    assert all(name in got for name in before)


def test_10_destroy_and_volume_removal_leave_nothing_of_the_test(dev):
    dev.engine.destroy(STACK)
    docker_cli("volume", "rm", *VOLUMES)
    assert taken_names() == []
    assert not [line for line in docker_cli("ps", "--all", "--format", "{{.Names}}").stdout.split() if CLUSTER in line]
