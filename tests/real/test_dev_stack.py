"""The dev stack for real: `./scripts/up --yes`, the README's first command, makes a real kind
cluster (kind v0.30.0, the node image built here: Debian's systemd and containerd, kubelet
v1.34.4), MinIO beside it on the stack's Docker network, and Velero with its node agent running as
real pods from the official chart. Only the machine's part of the config differs from the committed
Pulumi.dev.yaml (devstack.MACHINE_CONFIG). The tests run in file order on the session's dev stack,
which the data's and the faults' modules go on using (test_dev_stack_*.py); the last of those
destroys it and checks that nothing of it is left.

The names are the dev stack's own (brrtrouter-minio, brrtrouter-kind, ...): where a dev stack of
this machine's user already holds them, the tests refuse to start."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from .devstack import (APP, CLUSTER, DATA_VOLUMES, LOCATION, MINIO, NETWORK, NODE, SERVICES, STACK, container, docker_cli,
                       location_phase, volume_mountpoint)


@pytest.fixture(scope="module")
def dev(dev_stack):
    return dev_stack


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
    # `up` ends with the location Available, for which one CoreDNS replica must answer (Velero finds
    # MinIO by name); the second comes Ready on its own, soon after.
    coredns = "/apis/apps/v1/namespaces/kube-system/deployments/coredns"
    dev.api.wait_for("CoreDNS's two replicas Ready", lambda: (
        dev.api.get(coredns)["status"].get("readyReplicas") == dev.api.get(coredns)["spec"]["replicas"] == 2),
        timeout=120, interval=1)


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


def test_4_up_ended_with_the_location_available_through_the_clusters_dns(dev):
    # No wait here: `up` waits for Velero to find the location Available (locationAvailableTimeout).
    assert location_phase(dev.api) == "Available"
    assert dev.api.get(LOCATION)["spec"]["config"]["s3Url"] == f"http://{MINIO}:9000"
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


def velero_user(action: str) -> None:
    """Enable or disable MinIO's velero user, as an administrator revoking a key would."""
    docker_cli("exec", MINIO, "sh", "-c", 'mc alias set local http://127.0.0.1:9000 "$MINIO_ROOT_USER" '
               f'"$MINIO_ROOT_PASSWORD" >/dev/null && mc admin user {action} local velero')


def test_9_a_location_that_cannot_become_available_fails_up_with_veleros_reason(dev):
    """Velero's key refused by MinIO and the location made anew (`up --replace` of it): Velero cannot
    validate it, so `up` fails once locationAvailableTimeout has passed, and says why in Velero's
    words. With the key back, an `up` that makes the location anew again ends with it Available."""
    [urn] = [r["urn"] for r in dev.engine.resources(STACK) if r["type"] == "kubernetes:velero.io/v1:BackupStorageLocation"]
    dev.run("pulumi", "config", "set", "locationAvailableTimeout", "15", "--stack", STACK)
    velero_user("disable")
    try:
        failed = dev.up("--replace", urn, check=False)
        assert failed.returncode != 0, failed.stdout[-3000:]
        assert location_phase(dev.api) == "Unavailable"
        reason = dev.api.get(LOCATION)["status"]["message"]
        assert f"the storage location default is Unavailable: {reason}" in failed.stderr, failed.stderr[-3000:]
        assert "backup-location-default" in failed.stdout  # Pulumi names the resource that failed
    finally:
        velero_user("enable")
        dev.run("pulumi", "config", "rm", "locationAvailableTimeout", "--stack", STACK)
    # Made anew, Velero validates it at once (else at its next look, up to a minute away).
    dev.up("--replace", urn)
    assert location_phase(dev.api) == "Available"
    dev.engine.preview(STACK, "--expect-no-changes")


def files_holding(folder: Path, secret: bytes) -> set[Path]:
    """Files directly in `folder` whose contents hold `secret` (where the provider writes its copies)."""
    found = set()
    for path in folder.iterdir():
        try:
            if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
                found.add(path)
        except OSError:
            continue
    return found


def test_10_the_scripts_leave_no_copy_of_the_clusters_key_behind(dev, tmp_path):
    """The kubernetes provider writes the cluster's kubeconfig, client key included, to $TMPDIR on
    every run and never removes it: ./scripts/up and ./scripts/pulumi give it a directory of their
    own and remove it."""
    kubeconfig = yaml.safe_load(dev.kubeconfig.read_text())
    key = next(u["user"]["client-key-data"] for u in kubeconfig["users"] if u["name"] == f"kind-{CLUSTER}").encode()
    base = tmp_path / "tmp"
    base.mkdir()
    env = {**dev.environment(), "TMPDIR": str(base)}
    system_tmp = Path(tempfile.gettempdir())
    before = files_holding(system_tmp, key)
    for command in (["./scripts/up", "--yes"], ["./scripts/pulumi", "preview", "--stack", STACK],
                    ["./scripts/pulumi", "refresh", "--stack", STACK, "--yes"]):
        result = subprocess.run(command, cwd=dev.engine.project, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert list(base.iterdir()) == []  # the provider wrote its copies there, and the scripts removed them
    assert files_holding(system_tmp, key) - before == set()
