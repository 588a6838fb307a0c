"""The application's workloads as the app's own manifests deploy them (DESIGN §1, "The workloads it
serves"), for the data tests: Postgres and Redis with their data in pod volumes (emptyDir), the
four observability services with theirs in the PVCs the program made, and the Pet Store. Plus
what the tests write into them and read back: rows, keys and files, with their checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess

from realtier.build import images

from .devstack import APP, CLUSTER, CONTEXT, SERVICES, DevStack, cli_tools

POSTGRES_DATA = "/var/lib/postgresql/data"
VOLUME_SERVICES = SERVICES  # the services with a PVC <service>-storage, mounted at /data
LOADED_IMAGES = (images.POSTGRES_IMAGE, images.REDIS_IMAGE)  # the node carries the busybox one


def deployment(name: str, container: dict, volumes: list[dict], labels: dict | None = None) -> dict:
    labels = {"app": name, **(labels or {})}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": APP, "labels": labels},
        "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"terminationGracePeriodSeconds": 5, "containers": [container], "volumes": volumes}}},
    }


def manifests() -> list[dict]:
    postgres = deployment("postgres", {
        "name": "postgres", "image": images.POSTGRES_IMAGE, "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "PGDATA", "value": f"{POSTGRES_DATA}/pgdata"}],
        "volumeMounts": [{"name": "data", "mountPath": POSTGRES_DATA}],
        "readinessProbe": {"exec": {"command": ["pg_isready", "--username=brrtrouter", "--dbname=brrtrouter"]},
                           "periodSeconds": 2},
    }, [{"name": "data", "emptyDir": {}}])
    redis = deployment("redis", {
        "name": "redis", "image": images.REDIS_IMAGE, "imagePullPolicy": "IfNotPresent",
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": {"exec": {"command": ["redis-cli", "PING"]}, "periodSeconds": 2},
    }, [{"name": "data", "emptyDir": {}}])
    sleeper = {"image": images.LOCAL_PATH_HELPER_IMAGE, "imagePullPolicy": "IfNotPresent",
               "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}
    services = [deployment(service, {**sleeper, "name": service, "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                           [{"name": "data", "persistentVolumeClaim": {"claimName": f"{service}-storage"}}],
                           {"component": "observability"}) for service in VOLUME_SERVICES]
    petstore = deployment("petstore", {**sleeper, "name": "petstore"}, [])
    return [postgres, redis, *services, petstore]


class Workloads:
    """The workloads in the dev stack's cluster, and their data."""

    def __init__(self, dev: DevStack) -> None:
        self.dev = dev

    def load_images(self) -> None:
        """`kind load docker-image`, as a developer puts the app's own images into the cluster."""
        kind = cli_tools("kind")["kind"]
        self.dev.run(str(kind), "load", "docker-image", "--name", CLUSTER, *LOADED_IMAGES, timeout=600)

    def deploy(self) -> None:
        for manifest in manifests():
            self.dev.api.create(f"/apis/apps/v1/namespaces/{APP}/deployments", manifest)
        self.wait_ready()

    def deploy_missing(self) -> list[str]:
        """Deploy the workloads that are not there (loading the app's images where it needs them);
        their names."""
        there = {d["metadata"]["name"] for d in self.dev.api.items(f"/apis/apps/v1/namespaces/{APP}/deployments")}
        missing = [manifest for manifest in manifests() if manifest["metadata"]["name"] not in there]
        if {"postgres", "redis"} & {manifest["metadata"]["name"] for manifest in missing}:
            self.load_images()
        for manifest in missing:
            self.dev.api.create(f"/apis/apps/v1/namespaces/{APP}/deployments", manifest)
        self.wait_ready()
        return [manifest["metadata"]["name"] for manifest in missing]

    def wait_ready(self, names: tuple[str, ...] = (), timeout: float = 300) -> None:
        """Until these workloads (default: all) are Ready, with one running pod each and no other."""
        names = names or tuple(manifest["metadata"]["name"] for manifest in manifests())

        def ready() -> bool:
            for name in names:
                found = self.dev.api.find(f"/apis/apps/v1/namespaces/{APP}/deployments/{name}")
                if not found or found["status"].get("readyReplicas") != 1 or found["status"].get("updatedReplicas") != 1:
                    return False
            return len(self.pods()) == len(names)

        self.dev.api.wait_for("the workloads Ready", ready, timeout=timeout, interval=2)

    def apps_by_pod(self) -> dict[str, str]:
        """The app label of each running pod, by the pod's name."""
        return {pod["metadata"]["name"]: app for app, pod in self.pods().items()}

    def pods(self) -> dict[str, dict]:
        """Running pods by their app label (one each)."""
        pods = self.dev.api.items(f"/api/v1/namespaces/{APP}/pods")
        return {pod["metadata"]["labels"]["app"]: pod for pod in pods
                if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")}

    def exec(self, app: str, script: str, *, check: bool = True, stdin: str | bytes | None = None) -> str:
        """`script` run by sh in the app's pod, `stdin` (text or bytes) on its standard input; its output."""
        kubectl = cli_tools("kubectl")["kubectl"]
        pod = self.pods()[app]["metadata"]["name"]
        data = stdin.encode() if isinstance(stdin, str) else stdin
        result = subprocess.run([str(kubectl), "--context", CONTEXT, "-n", APP, "exec", "-i", pod, "-c", app, "--",
                                 "sh", "-c", script], input=data, capture_output=True, timeout=300,
                                env=self.dev.environment())
        output = result.stdout.decode(errors="replace")
        if check and result.returncode != 0:
            raise AssertionError(f"exec in {app}: {script}\n{output}{result.stderr.decode(errors='replace')}")
        return output

    # --- Postgres --------------------------------------------------------------------------
    def psql(self, sql: str, database: str = "brrtrouter") -> str:
        return self.exec("postgres", f"psql --username=brrtrouter --dbname={database} -X -A -t -q", stdin=sql).strip()

    def write_rows(self, count: int) -> None:
        self.psql("CREATE TABLE IF NOT EXISTS pets (id serial PRIMARY KEY, name text NOT NULL, tag text);"
                  f"INSERT INTO pets (name, tag) SELECT 'pet-' || g, md5(g::text) FROM generate_series(1, {count}) g;")

    def rows_checksum(self) -> tuple[int, str]:
        """(row count, md5 of every row in id order) of the pets table."""
        count, digest = self.psql("SELECT count(*), md5(string_agg(id || ':' || name || ':' || coalesce(tag, ''), ','"
                                  " ORDER BY id)) FROM pets;").split("|")
        return int(count), digest

    def dumps(self) -> list[str]:
        return sorted(self.exec("postgres", f"ls -1 {POSTGRES_DATA}/velero-dumps 2>/dev/null || true").split())

    # --- Redis -----------------------------------------------------------------------------
    def redis(self, *args: str) -> str:
        return self.exec("redis", "redis-cli " + " ".join(args)).strip()

    def write_keys(self, count: int, prefix: str = "pet") -> None:
        commands = "".join(f"SET {prefix}:{index} value-{index}-{hashlib.sha256(str(index).encode()).hexdigest()}\n"
                           for index in range(count))
        self.exec("redis", "redis-cli > /dev/null", stdin=commands)

    def keys(self) -> dict[str, str]:
        names = sorted(self.exec("redis", "redis-cli --scan").split())
        values = self.exec("redis", "redis-cli MGET " + " ".join(names)).splitlines() if names else []
        return dict(zip(names, values))

    # --- the observability services' volumes -----------------------------------------------
    def write_files(self, service: str, megabytes: int, files: int = 2, folder: str = "blocks") -> None:
        self.exec(service, f"mkdir -p /data/{folder} && for i in $(seq 1 {files}); do "
                           f"dd if=/dev/urandom of=/data/{folder}/block-$i bs=1M count={megabytes} 2>/dev/null; done")

    def file_hashes(self, service: str) -> dict[str, str]:
        # Not .velero/: the marker a file-system restore leaves in every volume it restored.
        listed = self.exec(service, "cd /data && find . -path ./.velero -prune -o -type f ! -name written-by-the-test -print"
                                    " | sort | xargs -r sha256sum")
        return {line.split()[1]: line.split()[0] for line in listed.splitlines()}


def backup_status(dev: DevStack, name: str) -> dict:
    # A backup just made has no status yet.
    return dev.api.get(f"/apis/velero.io/v1/namespaces/velero/backups/{name}").get("status") or {}


def pod_volume_backups(dev: DevStack, backup: str) -> list[dict]:
    return dev.api.items(f"/apis/velero.io/v1/namespaces/velero/podvolumebackups?labelSelector=velero.io/backup-name%3D{backup}")


def pod_volume_restores(dev: DevStack, restore: str) -> list[dict]:
    return dev.api.items(f"/apis/velero.io/v1/namespaces/velero/podvolumerestores?labelSelector=velero.io/restore-name%3D{restore}")


def transfer(record: dict) -> tuple[int, dt.datetime, dt.datetime]:
    """(bytes, start, completion) of a PodVolumeBackup or PodVolumeRestore, from its status (timestamps
    to the second)."""
    status = record["status"]
    return (int(status.get("progress", {}).get("totalBytes", 0)), dt.datetime.fromisoformat(status["startTimestamp"]),
            dt.datetime.fromisoformat(status["completionTimestamp"]))
