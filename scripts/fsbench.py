"""File-system backup and restore against a plain copy, on the dev stack's real kind cluster.

Run: .venv/bin/python scripts/benchmark.py --real --fsb   (after scripts/engine build)

The data: the four observability volumes (their PVCs, local PVs on the Docker volumes) with
256 MiB of incompressible data each, and one volume (a pod's emptyDir) of 20,000 small files, the
shape of a Prometheus or Loki store. Fresh data before every measurement, so kopia cannot
deduplicate it against an earlier backup. Side by side in one run:

- the anchor: `mc cp --recursive` of the same files from the host into the same MinIO;
- the backup: `velero backup create --from-schedule observability-stack` (our schedule: its
  parallelFilesUpload, the node agent's loadConcurrency), and one of the small files' pod;
- the restore of each into a mapped namespace (as `just restore-drill` does), whose claims
  local-path provisions as `local` volumes for the file-system restore.

For each: MB/s of the data path (first PodVolumeBackup's start to the last one's end) and of the
whole backup or restore (Velero's own start and end), their ratio to the plain copy, the fixed
cost per volume, files per second for the small files, and the CPU the node spent (its cgroup),
per volume. Then once more with each setting in VARIANTS: the server's item block workers (pods
backed up at once: a backup waits for each pod's volumes, polling every 5 s, before its next pod)
and the node agent's load concurrency (volumes moved at once).
Velero 1.18 does not compress (pkg/uploader/kopia/snapshot.go: CompressorName "none"), so there
is no setting with compression to compare.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from realtier.run.dockerd import daemon
from tests.real import devstack, workloads

FOUR_MB = 256  # MiB per observability volume
SMALL_FILES = 20_000
SMALL_SIZES = (1024, 2048, 4096, 8192)
# (itemBlockWorkerCount, nodeAgentLoadConcurrency, parallelFilesUpload): the project's defaults first,
# then Velero's own, then kopia reading more files of a volume at once (0: the node's CPU count).
VARIANTS = ((4, 4, 0), (1, 1, 0), (4, 4, 8))
RESTORE_NAMESPACE = "fsbench-restore"
MODIFIERS = "fsbench-modifiers"
MB = 1e6


def small_files_manifest() -> dict:
    sleeper = workloads.manifests()[-1]["spec"]["template"]["spec"]["containers"][0]
    return workloads.deployment("smallfiles", {**sleeper, "name": "smallfiles",
                                              "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                                [{"name": "data", "emptyDir": {}}])


class Bench:
    def __init__(self, dev: devstack.DevStack) -> None:
        self.dev, self.workloads = dev, workloads.Workloads(dev)

    # --- the workloads and their data ---------------------------------------------------------
    def deploy(self) -> None:
        for manifest in [*(m for m in workloads.manifests() if m["metadata"]["name"] in workloads.VOLUME_SERVICES),
                         small_files_manifest()]:
            self.dev.api.create(f"/apis/apps/v1/namespaces/{devstack.APP}/deployments", manifest)
        self.workloads.wait_ready((*workloads.VOLUME_SERVICES, "smallfiles"))

    def fresh_data(self) -> None:
        for service in workloads.VOLUME_SERVICES:
            self.workloads.exec(service, "rm -rf /data/bench && mkdir -p /data/bench && for i in 1 2 3 4; do "
                                         f"dd if=/dev/urandom of=/data/bench/block-$i bs=1M count={FOUR_MB // 4} 2>/dev/null; done")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for index in range(SMALL_FILES):
                data = os.urandom(SMALL_SIZES[index % len(SMALL_SIZES)])
                info = tarfile.TarInfo(f"bench/{index // 1000:02d}/chunk-{index:05d}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        self.workloads.exec("smallfiles", "rm -rf /data/bench && tar -x -C /data", stdin=buffer.getvalue())

    def small_files_path(self) -> Path:
        """The small files' emptyDir, as the host sees it: kind keeps the node's /var in a volume of its
        own, so through the mount that holds the path (else the node's root file system)."""
        pod = self.workloads.pods()["smallfiles"]["metadata"]["uid"]
        inside = Path(f"/var/lib/kubelet/pods/{pod}/volumes/kubernetes.io~empty-dir/data/bench")
        node = devstack.container(devstack.NODE)
        mounts = sorted((m for m in node["Mounts"] if inside.is_relative_to(m["Destination"])),
                        key=lambda m: len(m["Destination"]), reverse=True)
        if mounts:
            return Path(mounts[0]["Source"]) / inside.relative_to(mounts[0]["Destination"])
        return Path(node["GraphDriver"]["Data"]["MergedDir"]) / inside.relative_to("/")

    def sources(self) -> dict[str, Path]:
        found = {service: devstack.volume_mountpoint(f"brrtrouter-{service}-data") / "bench"
                 for service in workloads.VOLUME_SERVICES}
        return {**found, "smallfiles": self.small_files_path()}

    # --- the anchor -----------------------------------------------------------------------------
    def plain_copy(self) -> dict[str, float]:
        """Seconds of `mc cp --recursive` into the same MinIO: the four volumes one after another, and
        the small files."""
        bucket = "local/fsbench-anchor"
        self.dev.mc("mb", "--ignore-existing", bucket, timeout=900)
        try:
            started = time.monotonic()
            for service, source in self.sources().items():
                if service == "smallfiles":
                    four = time.monotonic() - started
                    started = time.monotonic()
                self.dev.mc("cp", "--recursive", f"{source}/", f"{bucket}/{service}/", timeout=900)
            return {"four": four, "smallfiles": time.monotonic() - started}
        finally:
            self.dev.mc("rb", "--force", bucket, timeout=900, check=False)

    # --- Velero ---------------------------------------------------------------------------------
    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far: by the kind node (kopia's data mover pods run there), by MinIO, and by
        the whole machine (every core's busy time, /proc/stat)."""
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        return {"node": container_cpu_seconds(devstack.NODE), "minio": container_cpu_seconds(devstack.MINIO),
                "machine": busy}

    def backup(self, name: str, *args: str) -> dict:
        cpu = self.cpu_seconds()
        self.dev.velero("backup", "create", name, *args, "--wait", timeout=1800)
        status = workloads.backup_status(self.dev, name)
        assert status["phase"] == "Completed", status
        return figures(status, workloads.pod_volume_backups(self.dev, name), used_since(cpu, self.cpu_seconds()))

    def restore(self, name: str, backup: str) -> dict:
        cpu = self.cpu_seconds()
        self.dev.velero("restore", "create", name, "--from-backup", backup, "--namespace-mappings",
                        f"{devstack.APP}:{RESTORE_NAMESPACE}", "--resource-modifier-configmap", MODIFIERS, "--wait",
                        timeout=1800)
        status = self.dev.api.get(f"/apis/velero.io/v1/namespaces/velero/restores/{name}")["status"]
        assert status["phase"] == "Completed", status
        result = figures(status, workloads.pod_volume_restores(self.dev, name), used_since(cpu, self.cpu_seconds()))
        self.dev.run("kubectl", "--context", devstack.CONTEXT, "delete", "namespace", RESTORE_NAMESPACE, "--wait=true",
                     timeout=600)
        return result

    def restore_modifiers(self) -> None:
        """As `just restore-drill`: restored claims go to local-path, as `local` volumes."""
        rules = ("version: v1\nresourceModifierRules:\n- conditions:\n    groupResource: persistentvolumeclaims\n"
                 "  mergePatches:\n  - patchData: |\n      {\"spec\": {\"storageClassName\": \"standard\"}, "
                 "\"metadata\": {\"annotations\": {\"volumeType\": \"local\"}}}\n")
        self.dev.api.create("/api/v1/namespaces/velero/configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": MODIFIERS}, "data": {"modifiers.yaml": rules}})

    def set_variant(self, item_block_workers: int, load_concurrency: int, parallel_files: int) -> None:
        for key, value in (("itemBlockWorkerCount", item_block_workers), ("nodeAgentLoadConcurrency", load_concurrency),
                           ("parallelFilesUpload", parallel_files)):
            self.dev.run("pulumi", "config", "set", key, str(value), "--stack", devstack.STACK)
        self.dev.up()  # awaits the server's Deployment and the node agent's DaemonSet as they roll
        self.dev.api.wait_for("the node agent rolled", lambda: self._agent_ready(), timeout=300, interval=2)

    def _agent_ready(self) -> bool:
        agent = self.dev.api.get("/apis/apps/v1/namespaces/velero/daemonsets/node-agent")
        status = agent["status"]
        return (status.get("observedGeneration") == agent["metadata"]["generation"]
                and status.get("updatedNumberScheduled") == status.get("numberReady") == 1)

    def measure(self, label: str) -> dict:
        self.fresh_data()
        anchor = self.plain_copy()
        four = self.backup(f"fsb-{label}-four", "--from-schedule", "observability-stack")
        small = self.backup(f"fsb-{label}-small", "--include-namespaces", devstack.APP, "--selector", "app=smallfiles",
                            "--default-volumes-to-fs-backup")
        return {
            "anchor": anchor, "backup four": four, "backup small": small,
            "restore four": self.restore(f"fsb-{label}-four-r", f"fsb-{label}-four"),
            "restore small": self.restore(f"fsb-{label}-small-r", f"fsb-{label}-small"),
        }


def container_cpu_seconds(name: str) -> float:
    """CPU time a container's cgroup has used so far (cgroup v1 cpuacct, or v2 cpu.stat)."""
    pid = devstack.container(name)["State"]["Pid"]
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            return int(Path(f"/sys/fs/cgroup/cpuacct{path}/cpuacct.usage").read_text()) / 1e9
        if controllers == "":
            stat = dict(l.split() for l in Path(f"/sys/fs/cgroup{path}/cpu.stat").read_text().splitlines())
            return int(stat["usage_usec"]) / 1e6
    raise RuntimeError(f"no cpu accounting cgroup for {name}")


def used_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


def figures(status: dict, records: list[dict], cpu_seconds: dict[str, float]) -> dict:
    moved = [workloads.transfer(record) for record in records if record.get("status", {}).get("phase") == "Completed"]
    assert moved and len(moved) == len(records), [r.get("status") for r in records]
    total = sum(size for size, _, _ in moved)
    path = (max(end for _, _, end in moved) - min(start for _, start, _ in moved)).total_seconds()
    whole = (devstack.moment(status["completionTimestamp"]) - devstack.moment(status["startTimestamp"]))
    per_volume = [(end - start).total_seconds() for _, start, end in moved]
    return {"MB": total / MB, "volumes": len(moved), "data path s": max(path, 1), "whole s": max(whole, 1),
            "per volume s": per_volume, "cpu s": cpu_seconds}


def report(label: str, measured: dict) -> list[str]:
    anchor = measured["anchor"]
    lines = [f"itemBlockWorkerCount, nodeAgentLoadConcurrency, parallelFilesUpload = {label}:"]
    for kind in ("four", "small"):
        copy_seconds = anchor["four" if kind == "four" else "smallfiles"]
        for step in ("backup", "restore"):
            result = measured[f"{step} {kind}"]
            mb, cpu = result["MB"], result["cpu s"]
            rate, whole_rate, copy_rate = mb / result["data path s"], mb / result["whole s"], mb / copy_seconds
            line = (f"  {step:7} {kind:5}: {mb:7.1f} MB in {result['volumes']} volume(s), data path {result['data path s']:5.0f} s "
                    f"{rate:6.1f} MB/s, whole {result['whole s']:5.0f} s {whole_rate:6.1f} MB/s; plain copy {copy_seconds:5.1f} s "
                    f"{copy_rate:6.1f} MB/s; ratio {rate / copy_rate:.2f}x (whole {whole_rate / copy_rate:.2f}x); "
                    f"CPU: node {cpu['node']:.0f} s ({cpu['node'] / result['volumes']:.0f} s a volume), MinIO "
                    f"{cpu['minio']:.0f} s, machine {cpu['machine'] / result['whole s']:.2f} of {os.cpu_count()} cores busy; "
                    f"per volume {result['per volume s']} s")
            if kind == "small":
                line += f"; {SMALL_FILES / result['data path s']:.0f} files/s"
            lines.append(line)
    return lines


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="brrtrouter-fsbench-") as folder, ExitStack() as stack:
        root = Path(folder)
        docker = stack.enter_context(daemon(root / "dockerd"))
        try:
            dev = stack.enter_context(devstack.dev_stack_up(root / "dev", docker))
        except devstack.DevStackUnavailable as error:
            raise SystemExit(f"the file-system backup figures cannot be measured here: {error}") from error
        bench = Bench(dev)
        bench.deploy()
        bench.restore_modifiers()
        lines = []
        for index, (workers, concurrency, files) in enumerate(VARIANTS):
            if index:
                bench.set_variant(workers, concurrency, files)
            lines += report(f"{workers}, {concurrency}, {files}", bench.measure(f"w{workers}c{concurrency}f{files}"))
            print("\n".join(lines[-5:]), flush=True)
    print("file-system backup against a plain copy (mc cp), side by side:")
    print("\n".join(lines))
    return 0
