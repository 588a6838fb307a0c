"""Bad days, on the session's dev stack: MinIO down, Velero, its node agent or a data mover killed in
the middle of a file-system backup, a changed repository password, expiry and repository
maintenance, a host reboot (the Docker daemon stopped and started), two `up` at once, an `up`
interrupted by SIGINT or SIGKILL.

Each fault is read from Velero's own records (Backups, PodVolumeBackups, the location, /metrics)
and from the data itself. Where a fault could harm the repository (MinIO down, Velero killed, a
volume's backup cut short, another password, expiry and maintenance), a backup taken before all of
them is then restored byte for byte (Grafana's volume, by `just restore-service`); after a reboot
the data is compared as it is. They run on the dev stack the data's tests leave
(or deploy the application's workloads themselves when run alone), and the last test here ends
the stack."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

from .figures import measured
from .devstack import (APP, CLUSTER, CONTEXT, LOCATION, MINIO, NETWORK, NODE, STACK, VOLUMES, DevStack,
                       api_from_kubeconfig, cli_tools, container, docker_cli, location_phase, moment, taken_names,
                       volume_mountpoint, wait_for_location)
from .workloads import VOLUME_SERVICES, Workloads, backup_status, pod_volume_backups, pod_volume_restores

BEFORE = "faults-before"
VELERO_PODS = "/api/v1/namespaces/velero/pods"
VELERO_API = "/apis/velero.io/v1/namespaces/velero"


class Faults:
    def __init__(self, dev: DevStack) -> None:
        self.dev, self.workloads = dev, Workloads(dev)
        self.before: dict[str, str] = {}

    def data(self) -> tuple:
        """Everything the application keeps: Postgres' rows, Redis' keys, the volumes' files."""
        return (self.workloads.rows_checksum(), self.workloads.keys(),
                {service: self.workloads.file_hashes(service) for service in VOLUME_SERVICES})

    def backup(self, name: str, schedule: str) -> dict:
        self.dev.velero("backup", "create", name, "--from-schedule", schedule, "--wait")
        return backup_status(self.dev, name)

    def velero_pod(self, prefix: str) -> dict:
        [pod] = [p for p in self.dev.api.items(VELERO_PODS) if p["metadata"]["name"].startswith(prefix)
                 and not p["metadata"].get("deletionTimestamp")]
        return pod

    def wait_ready(self, prefix: str, timeout: float = 180) -> dict:
        def ready():
            pods = [p for p in self.dev.api.items(VELERO_PODS) if p["metadata"]["name"].startswith(prefix)
                    and not p["metadata"].get("deletionTimestamp")]
            return len(pods) == 1 and all(s.get("ready") for s in pods[0]["status"].get("containerStatuses", [])) \
                and pods[0]["status"].get("containerStatuses") and pods[0]
        return self.dev.api.wait_for(f"{prefix}* Ready", ready, timeout=timeout, interval=1)

    def metrics(self) -> str:
        pod = self.velero_pod("velero-")["metadata"]["name"]
        return self.dev.api.request("GET", f"{VELERO_PODS}/{pod}:8085/proxy/metrics")

    def backup_in_flight(self, name: str, schedule: str, service: str, megabytes: int = 400) -> dict:
        """A file-system backup of `megabytes` of new data in `service`'s volume, from `schedule`,
        started and caught while a PodVolumeBackup is InProgress; that PodVolumeBackup."""
        self.workloads.exec(service, f"rm -rf /data/inflight && mkdir -p /data/inflight && for i in $(seq 1 4); do "
                                     f"dd if=/dev/urandom of=/data/inflight/block-$i bs=1M count={megabytes // 4} 2>/dev/null; done")
        self.dev.velero("backup", "create", name, "--from-schedule", schedule)
        return self.dev.api.wait_for(f"a PodVolumeBackup of {name} InProgress", lambda: next(
            (pvb for pvb in pod_volume_backups(self.dev, name) if pvb.get("status", {}).get("phase") == "InProgress"),
            None), timeout=120, interval=0.2)

    def wait_phase(self, name: str, phases: tuple[str, ...], timeout: float = 300) -> dict:
        return self.dev.api.wait_for(f"backup {name} in {' or '.join(phases)}", lambda: (
            status if (status := backup_status(self.dev, name)).get("phase") in phases else None),
            timeout=timeout, interval=1)

    def older_backup_restores_byte_for_byte(self) -> None:
        """Grafana's files changed, then brought back from the backup taken before every fault."""
        self.workloads.exec("grafana", "rm -rf /data/blocks && echo changed > /data/changed-by-a-fault-test")
        self.grafana_restored_as_before()

    def grafana_restored_as_before(self) -> None:
        result = self.dev.just("restore-service", "grafana", BEFORE, "--yes")
        assert "phase Completed" in result.stdout, result.stdout + result.stderr
        self.workloads.wait_ready()
        assert self.workloads.file_hashes("grafana") == self.before


@pytest.fixture(scope="module")
def faults(dev_stack):
    """The dev stack with the application and its data (the data tests' own, or deployed here), and
    a backup of Grafana's volume taken before any fault."""
    faults = Faults(dev_stack)
    deployed = faults.workloads.deploy_missing()
    if "postgres" in deployed:
        faults.workloads.write_rows(500)
    if "redis" in deployed:
        faults.workloads.write_keys(100)
    for service in set(VOLUME_SERVICES) & set(deployed):
        faults.workloads.write_files(service, 2)
    faults.before = faults.workloads.file_hashes("grafana")
    assert faults.backup(BEFORE, "grafana-dashboards")["phase"] == "Completed"
    return faults


def test_1_minio_down_fails_backups_visibly_and_nothing_is_lost(faults):
    dev = faults.dev
    dev.just("stop-minio")
    try:
        # Velero finds out at its next validation of the location (every 10 s on the dev stack).
        dev.api.wait_for("the location Unavailable", lambda: location_phase(dev.api) == "Unavailable",
                         timeout=150, interval=2)
        dev.velero("backup", "create", "faults-minio-down", "--from-schedule", "configuration")
        status = faults.wait_phase("faults-minio-down", ("Completed", "Failed", "FailedValidation", "PartiallyFailed"),
                                   timeout=120)
        assert status["phase"] in ("Failed", "FailedValidation"), status
        assert any("BackupStorageLocation default is in Unavailable status" in error
                   for error in status.get("validationErrors", [])), status
        # The alert rule VeleroBackupStorageLocationUnavailable: velero_backup_location_status_gauge == 0.
        # Velero sets the gauge from the phases it read before its latest validation: it says 0 one
        # validation after the location itself.
        unavailable = r'^velero_backup_location_status_gauge\{backup_location_name="default"\} 0$'
        dev.api.wait_for("the location's gauge 0 in /metrics", lambda: re.search(unavailable, faults.metrics(), re.M),
                         timeout=150, interval=5)
        assert re.search(r'^velero_backup_validation_failure_total\{schedule="configuration"\} [1-9]', faults.metrics(), re.M)
        doctor = dev.just("doctor", check=False)
        assert doctor.returncode != 0
        assert "FAIL: MinIO does not answer" in doctor.stdout, doctor.stdout
        assert "FAIL: storage location default is Unavailable" in doctor.stdout
    finally:
        dev.just("start-minio")
        started = time.monotonic()
    wait_for_location(dev.api, timeout=150)
    measured(f"from start-minio to the location Available: {time.monotonic() - started:.0f} s")
    assert faults.backup("faults-after-minio", "configuration")["phase"] == "Completed"
    faults.older_backup_restores_byte_for_byte()


def test_2_velero_killed_in_the_middle_of_a_backup_fails_it_and_the_next_completes(faults):
    dev = faults.dev
    data = faults.data()
    faults.backup_in_flight("faults-velero-killed", "prometheus-data", "prometheus")
    killed_at = time.monotonic()
    dev.api.delete(f"{VELERO_PODS}/{faults.velero_pod('velero-')['metadata']['name']}")
    status = faults.wait_phase("faults-velero-killed", ("Completed", "Failed", "PartiallyFailed"), timeout=300)
    assert status["phase"] == "Failed", status  # the new server fails what the old one left InProgress
    measured(f"the interrupted backup Failed {time.monotonic() - killed_at:.0f} s after the kill")
    faults.wait_ready("velero-")
    wait_for_location(dev.api)
    measured(f"from the kill to a new server Ready with the location Available: {time.monotonic() - killed_at:.0f} s")
    assert faults.backup("faults-after-velero", "prometheus-data")["phase"] == "Completed"
    assert faults.data()[:2] == data[:2]  # rows and keys untouched
    repositories = dev.api.items(f"{VELERO_API}/backuprepositories")
    assert repositories and all(r.get("status", {}).get("phase") == "Ready" for r in repositories), repositories
    faults.older_backup_restores_byte_for_byte()


def test_3_the_node_agent_killed_in_the_middle_of_a_volume_takes_up_its_data_mover_again(faults):
    """Since Velero 1.17 a volume's data moves in a data mover pod of its own (named for its
    PodVolumeBackup), not in the node agent: the node agent killed meanwhile comes back and the
    volume's backup completes."""
    dev = faults.dev
    pvb = faults.backup_in_flight("faults-agent-killed", "loki-logs", "loki")
    dev.api.delete(f"{VELERO_PODS}/{faults.velero_pod('node-agent-')['metadata']['name']}")
    status = faults.wait_phase("faults-agent-killed", ("Completed", "Failed", "PartiallyFailed"), timeout=300)
    assert status["phase"] == "Completed", status
    [record] = [r for r in pod_volume_backups(dev, "faults-agent-killed") if r["metadata"]["name"] == pvb["metadata"]["name"]]
    assert record["status"]["phase"] == "Completed" and record["status"]["progress"]["totalBytes"] >= 400 * 2**20
    faults.wait_ready("node-agent-")


def test_3a_the_data_mover_killed_in_the_middle_of_a_volume_is_found_by_doctor_and_its_steps_end_the_backup(faults):
    """Velero 1.18 sees no deletion of a data mover pod: its PodVolumeBackup stays InProgress until
    the server's --fs-backup-timeout (4 h), and every later backup waits behind it. `just doctor`
    names the volume and gives the steps: the node agent restarted cancels the volume (naming it),
    the server restarted fails the backup (1.18.1's server waits on a canceled volume too)."""
    dev = faults.dev
    pvb = faults.backup_in_flight("faults-mover-killed", "loki-logs", "loki")
    name = pvb["metadata"]["name"]
    dev.api.delete(f"{VELERO_PODS}/{name}")  # the data mover pod: the PodVolumeBackup's name
    dev.api.wait_for("the data mover pod gone", lambda: dev.api.find(f"{VELERO_PODS}/{name}") is None, timeout=60)
    doctor = dev.just("doctor", check=False)
    assert doctor.returncode != 0
    stuck = f"FAIL: the volume data of pod {APP}/{pvb['spec']['pod']['name']} (backup faults-mover-killed) is InProgress"
    assert stuck in doctor.stdout, doctor.stdout
    assert "skip: the probe backup would wait behind the volume backup above" in doctor.stdout
    steps = re.search(r"(kubectl -n velero rollout restart daemonset/node-agent); then (kubectl -n velero rollout "
                      r"restart deployment/velero)", doctor.stdout)
    assert steps, doctor.stdout
    steps_at = time.monotonic()
    dev.run(*steps.group(1).split(), "--context", CONTEXT)
    dev.api.wait_for("the volume canceled", lambda: next(
        r for r in pod_volume_backups(dev, "faults-mover-killed") if r["metadata"]["name"] == name
    )["status"].get("phase") == "Canceled", timeout=120, interval=1)
    [record] = [r for r in pod_volume_backups(dev, "faults-mover-killed") if r["metadata"]["name"] == name]
    assert record["spec"]["volume"] == "data" and record["spec"]["pod"]["name"].startswith("loki-")
    assert name in record["status"]["message"], record["status"]  # "Resume InProgress PVB <name> failed ..."
    faults.wait_ready("node-agent-")
    dev.run(*steps.group(2).split(), "--context", CONTEXT)
    status = faults.wait_phase("faults-mover-killed", ("Completed", "Failed", "PartiallyFailed"), timeout=180)
    assert status["phase"] == "Failed", status
    faults.wait_ready("velero-")
    wait_for_location(dev.api)
    measured(f"from doctor's first step to Velero Ready with the location Available: {time.monotonic() - steps_at:.0f} s")
    assert faults.backup("faults-after-mover", "loki-logs")["phase"] == "Completed"
    assert dev.just("doctor", check=False).returncode == 0


def test_3b_a_changed_repository_password_is_found_by_doctor_before_a_restore_needs_it(faults):
    """The stack's password changed after backups exist: `just doctor` (which the README asks for after
    every up) says so at once, with what to do, where before only a restore found out."""
    dev = faults.dev
    password = dev.run("pulumi", "config", "get", "veleroRepositoryPassword", "--stack", STACK).stdout.strip()
    dev.set_repository_password("not-the-one-the-backups-were-made-with")
    dev.up()
    try:
        doctor = dev.just("doctor", check=False)
        assert doctor.returncode != 0
        assert "FAIL: the repository password does not open the backups" in doctor.stdout, doctor.stdout
        assert "1. set the password they were made with" in doctor.stdout
        # A backup taken meanwhile does not complete silently: kopia refuses its volumes too. A restore
        # meanwhile is refused too, with what to do. (Side by side: Velero takes a minute over each.)
        dev.velero("backup", "create", "faults-wrong-password", "--from-schedule", "loki-logs")
        refused = dev.just("restore-service", "grafana", BEFORE, "--yes", check=False)
        status = faults.wait_phase("faults-wrong-password", ("Completed", "Failed", "PartiallyFailed"))
        assert status["phase"] in ("PartiallyFailed", "Failed"), status
        messages = [pvb.get("status", {}).get("message", "") for pvb in pod_volume_backups(dev, "faults-wrong-password")]
        assert messages and all("invalid repository password" in message for message in messages), messages
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "does not open with this stack's repository password (veleroRepositoryPassword)" in refused.stderr, refused.stderr
        assert "pulumi config set --secret veleroRepositoryPassword -- '<password>'" in refused.stderr
        restore = re.search(r"restored grafana from faults-before as (\S+): phase PartiallyFailed", refused.stderr)[1]
        volume_restores = pod_volume_restores(dev, restore)
        assert [(pvr["status"]["phase"], "invalid repository password" in pvr["status"]["message"])
                for pvr in volume_restores] == [("Failed", True)], [pvr["status"] for pvr in volume_restores]
        assert backup_status(dev, BEFORE)["phase"] == "Completed"
    finally:
        dev.set_repository_password(password)
        dev.up()
    doctor = dev.just("doctor", check=False)
    assert "ok:   the kopia repository opens with this stack's password" in doctor.stdout, doctor.stdout
    assert doctor.returncode == 0, doctor.stdout
    # What the message says: the password the backups were made with, up, restore again (the failed
    # restore's Grafana waits in its init container; restore-service replaces it): byte for byte.
    faults.grafana_restored_as_before()


def test_3c_an_expired_backup_leaves_the_bucket_and_kopia_maintenance_runs_for_real(faults):
    """Velero's garbage collection deletes a backup past its TTL, with its files in the bucket and
    its volume snapshots; Velero's repository maintenance runs as a Job and succeeds; what is left
    still restores."""
    dev = faults.dev
    for key in ("garbageCollectionFrequency", "repositoryMaintenanceFrequency"):
        dev.run("pulumi", "config", "set", key, "10s", "--stack", STACK)
    dev.up()
    [server] = dev.api.get("/apis/apps/v1/namespaces/velero/deployments/velero")["spec"]["template"]["spec"]["containers"]
    assert {"--garbage-collection-frequency=10s", "--default-repo-maintain-frequency=10s"} <= set(server["args"])
    wait_for_location(dev.api)

    template = dev.api.get(f"{VELERO_API}/schedules/grafana-dashboards")["spec"]["template"]
    dev.api.create(f"{VELERO_API}/backups", {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {
        "name": "faults-expiring", "namespace": "velero"}, "spec": {**template, "ttl": "20s"}})
    assert faults.wait_phase("faults-expiring", ("Completed", "Failed", "PartiallyFailed"))["phase"] == "Completed"
    bucket = f"local/{dev.setting('minioBucket')}/backups/"
    assert "faults-expiring/faults-expiring.tar.gz" in dev.mc("ls", "--recursive", bucket).stdout
    assert pod_volume_backups(dev, "faults-expiring")
    dev.api.wait_for("the expired backup deleted by Velero", lambda: "faults-expiring" not in dev.backups(),
                     timeout=180, interval=2)
    left = dev.mc("ls", "--recursive", bucket).stdout
    assert "faults-expiring/" not in left, left  # its files gone from the bucket, not only from the API
    assert not pod_volume_backups(dev, "faults-expiring")  # and its volume's kopia snapshot forgotten
    for name, backup in dev.backups().items():  # every other backup's files are still there
        assert f"{name}/{name}.tar.gz" in left or backup["status"].get("phase") != "Completed", name

    # A repository keeps the frequency it was made with: set it lower, as docs/operations.md says.
    repositories = {f"{VELERO_API}/backuprepositories/{r['metadata']['name']}": r["spec"]["maintenanceFrequency"]
                    for r in dev.api.items(f"{VELERO_API}/backuprepositories")}
    assert repositories
    asked = time.time()
    for path in repositories:
        dev.api.patch(path, {"spec": {"maintenanceFrequency": "10s"}})
    try:
        for path in repositories:
            done = dev.api.wait_for(f"maintenance of {path.rpartition('/')[2]}", lambda: next(
                (run for run in dev.api.get(path).get("status", {}).get("recentMaintenance") or []
                 if (moment(run.get("startTimestamp")) or 0) >= asked - 1 and run.get("completeTimestamp")), None),
                timeout=300, interval=2)
            assert done["result"] == "Succeeded", done
        jobs = dev.api.items("/apis/batch/v1/namespaces/velero/jobs")
        assert any(job["status"].get("succeeded") for job in jobs), jobs  # a real Job ran kopia's maintenance
    finally:
        for path, frequency in repositories.items():
            dev.api.patch(path, {"spec": {"maintenanceFrequency": frequency}})
    faults.older_backup_restores_byte_for_byte()


def test_4_after_a_reboot_the_environment_comes_back_by_itself_with_its_data(faults, docker):
    """The Docker daemon stopped (its containers with it) and started again, as a host reboot does."""
    dev = faults.dev
    data = faults.data()
    started, started_at = docker.restart(), dt.datetime.now(dt.timezone.utc)
    assert container(NODE)["State"]["Running"] and container(MINIO)["State"]["Running"]
    # Available by a validation made after the reboot (the phase from before stays in the object).
    dev.api.wait_for("the location validated Available again", lambda: location_phase(dev.api) == "Available" and (
        moment(dev.api.get(LOCATION)["status"]["lastValidationTime"]) >= started_at.timestamp() - 1), timeout=300,
        interval=1)
    seconds = time.monotonic() - started
    measured(f"from the daemon's start to the location Available: {seconds:.0f} s")
    node = dev.api.get(f"/api/v1/nodes/{NODE}")["status"]["conditions"]
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node)
    assert container(MINIO)["State"]["Health"]["Status"] == "healthy"
    faults.wait_ready("velero-")
    faults.wait_ready("node-agent-")
    faults.workloads.wait_ready()
    assert faults.backup("faults-after-reboot", "grafana-dashboards")["phase"] == "Completed"
    assert faults.data() == data
    dev.engine.preview(STACK, "--expect-no-changes")


def test_5_a_second_up_while_one_runs_is_refused_and_changes_nothing(faults):
    dev = faults.dev
    first = subprocess.Popen(["./scripts/up", "--yes"], cwd=dev.engine.project, env=dev.environment(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        dev.api.wait_for("the first up running pulumi", lambda: "pulumi up" in subprocess.run(
            ["ps", "-o", "args=", "--ppid", str(first.pid)], capture_output=True, text=True).stdout, timeout=60)
        second = dev.up(check=False)
        assert second.returncode == 1
        assert f"another ./scripts/up of the dev stack is running (pid {first.pid})" in second.stderr, second.stderr
        assert "Updating (dev)" not in second.stdout
    finally:
        output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output[-3000:]
    assert location_phase(dev.api) == "Available"


def volume_digests() -> dict[str, str]:
    """A digest of every file in each Docker volume of the stack, read on the host (MinIO's own
    bookkeeping, .minio.sys, aside: it changes whenever MinIO runs)."""
    digests = {}
    for volume in VOLUMES:
        digest = hashlib.sha256()
        root = volume_mountpoint(volume)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and ".minio.sys" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        digests[volume] = digest.hexdigest()
    return digests


def up_interrupted_while_the_chart_installs(dev: DevStack, signal_number: int) -> str:
    """./scripts/up --yes from nothing, its whole process group sent `signal_number` (Ctrl-C is
    SIGINT; SIGKILL leaves Pulumi no time to save anything) once Velero's Deployment exists but
    is not yet ready; its output."""
    up = subprocess.Popen(["./scripts/up", "--yes"], cwd=dev.engine.project, env=dev.environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    apis: dict[str, object] = {}

    def installing() -> bool:
        if not dev.kubeconfig.exists() or CONTEXT not in (text := dev.kubeconfig.read_text()):
            return False
        if text not in apis:
            apis[text] = api_from_kubeconfig(text, CONTEXT, dev.root / f"certs-{len(apis)}-{signal_number}")
        deployment = apis[text].find("/apis/apps/v1/namespaces/velero/deployments/velero")
        return deployment is not None and not deployment.get("status", {}).get("readyReplicas")
    try:
        dev.api.wait_for("the chart being installed", installing, timeout=300, interval=0.5)
    finally:
        os.killpg(up.pid, signal_number)
        output, _ = up.communicate(timeout=300)
    assert up.returncode != 0, output[-3000:]
    return output


# After SIGKILL the next up adopts what the killed one made but did not record; its provider forces
# server-side apply conflicts (before it did, one run in three stopped on the node agent's
# DaemonSet). What the scripts mend after a kill is also tested with stand-ins (tests/test_scripts.py).
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_5a_an_up_interrupted_while_the_chart_installs_is_finished_by_the_next(faults, signal_number):
    """From nothing (the volumes kept), as after a destroy: the next up converges to one cluster and
    one MinIO, with the volumes' data as it was and nothing left over."""
    dev = faults.dev
    dev.engine.destroy(STACK)
    kept = volume_digests()
    up_interrupted_while_the_chart_installs(dev, signal_number)
    finished = dev.up()
    assert location_phase(dev.api) == "Available"
    measured(f"after {signal.Signals(signal_number).name}: the next up took {finished.seconds:.0f} s")
    containers = docker_cli("ps", "--all", "--format", "{{.Names}}").stdout.split()
    assert sorted(containers) == sorted([NODE, MINIO]), containers
    kind = cli_tools("kind")["kind"]
    assert subprocess.run([str(kind), "get", "clusters"], capture_output=True, text=True).stdout.split() == [CLUSTER]
    networks = docker_cli("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert set(networks) - {"bridge", "host", "none", "kind"} == {NETWORK}, networks
    assert volume_digests() == kept
    dev.engine.preview(STACK, "--expect-no-changes")


def test_6_destroy_and_volume_removal_leave_nothing_of_the_dev_stack(faults):
    """The last user of the session's dev stack (test_dev_stack*.py, in file order) ends it."""
    faults.dev.engine.destroy(STACK)
    docker_cli("volume", "rm", *VOLUMES)
    assert taken_names() == []
    assert not [line for line in docker_cli("ps", "--all", "--format", "{{.Names}}").stdout.split() if CLUSTER in line]
