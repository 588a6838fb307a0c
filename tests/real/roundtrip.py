"""The round trip's environment, shared by its tests (test_round_trip.py) and the benchmark: the
stack under test, the local MinIO through the built mc, the application's sample objects, and a
real Velero server run as its own service account."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import yaml

from velero_pulumi.components.minio_server import access_setup_script
from realtier.build import tools
from realtier.run.engine import Engine
from realtier.run.velero import VeleroServer

from . import kube
from .stacks import LOCAL_CHART

STACK = "roundtrip"
APP = "brrtrouter-dev"
BUCKET = "velero"
PREFIX = "roundtrip"
ACCESS_KEY = "velero-roundtrip"
SAMPLES = 3


class Mc:
    """The built mc, against the local MinIO, as root ("local") or as Velero's user ("velero")."""

    def __init__(self, cluster, folder: Path, secret_key: str) -> None:
        self.binary = tools.locate(("mc",))["mc"]
        endpoint = f"127.0.0.1:{cluster.ports['minio']}"
        self.env = {
            **os.environ, "PATH": f"{self.binary.parent}:{os.environ['PATH']}", "MC_CONFIG_DIR": str(folder),
            "MC_HOST_local": f"http://{cluster.minio_user}:{cluster.minio_password}@{endpoint}",
            "MC_HOST_velero": f"http://{ACCESS_KEY}:{secret_key}@{endpoint}",
            "VELERO_ACCESS_KEY": ACCESS_KEY, "VELERO_SECRET_KEY": secret_key,
        }

    def setup_script(self) -> subprocess.CompletedProcess:
        """The project's own bucket-and-user script, as the dev stack runs it in its container."""
        return subprocess.run(["sh", "-s"], input=access_setup_script(BUCKET, f"{BUCKET}-readwrite"), env=self.env,
                              text=True, capture_output=True, timeout=60)

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(self.binary), *args], env=self.env, capture_output=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"mc {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result

    def objects(self, folder: str) -> list[str]:
        """Every object key under folder/ in the bucket."""
        listed = self("ls", "--recursive", "--json", f"local/{BUCKET}/{folder}/").stdout.decode().splitlines()
        return [f"{folder}/{json.loads(line)['key']}" for line in listed if line.strip()]


class Environment:
    def __init__(self, cluster, engine, mc, root: Path) -> None:
        self.cluster, self.engine, self.mc, self.root = cluster, engine, mc, root
        self.velero: VeleroServer | None = None
        self.backup_names: list[str] = []

    @property
    def api(self):
        return self.cluster.api

    def start_velero(self) -> VeleroServer:
        account = self.cluster.service_account_kubeconfig("velero", "velero-server", self.root / "velero-server.kubeconfig")
        self.velero = VeleroServer.start(self.root / f"velero-{time.monotonic_ns()}", account)
        return self.velero

    def stop_velero(self) -> None:
        if self.velero is not None:
            self.velero.stop()
            self.velero = None

    def velero_backups_in_cluster(self) -> list[str]:
        return [b["metadata"]["name"] for b in self.api.items("/apis/velero.io/v1/namespaces/velero/backups")]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        result = self.velero.cli(*args, kubeconfig=self.cluster.kubeconfig)
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def sample_objects(api) -> None:
    """The application's configuration, as its own manifests would have made it before Velero came."""
    kube.create(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP}})
    for index in range(SAMPLES):
        labels = {"app": "petstore"}
        kube.create(api, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": f"petstore-config-{index}", "namespace": APP, "labels": labels}, "data": {"setting": f"value-{index}"}})
        kube.create(api, {"apiVersion": "v1", "kind": "Secret", "metadata": {
            "name": f"petstore-secret-{index}", "namespace": APP, "labels": labels},
            "stringData": {"password": secrets.token_urlsafe(12)}})


def samples(api) -> dict[str, dict]:
    found = {}
    for kind in ("configmaps", "secrets"):
        for item in api.items(f"/api/v1/namespaces/{APP}/{kind}"):
            if item["metadata"]["name"].startswith("petstore-"):
                found[item["metadata"]["name"]] = item.get("data")
    return found


def make_environment(cluster, root: Path) -> Environment:
    """The stack under test on `cluster`, not yet up: the bucket and Velero's user made by the
    project's own set-up script, the application's sample objects, the stack file written."""
    mc = Mc(cluster, root / "mc", secrets.token_hex(20))
    made = mc.setup_script()
    if made.returncode != 0:
        raise RuntimeError(f"the MinIO set-up script failed: {made.stderr}")
    sample_objects(cluster.api)
    engine = Engine.create(root / "engine")
    (engine.project / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": {
        f"brrtrouter-backup:{key}": value for key, value in {
            "clusterMode": "existing", "appNamespace": APP, "storageBackend": "s3Compatible",
            "backupBucket": BUCKET, "backupPrefix": PREFIX, "credentialsMode": "secret",
            "s3Url": cluster.minio_endpoint, "veleroChart": LOCAL_CHART, "veleroRbac": "restricted",
            "monitoring": "annotations",
            # Velero starts after the up, on the host (start_velero): nothing to wait for during it.
            "locationAvailableTimeout": 0,
        }.items()}}))
    engine.init_stack(STACK, secrets={"kubeconfig": cluster.kubeconfig_text(), "s3AccessKeyId": ACCESS_KEY,
                                      "s3SecretAccessKey": mc.env["VELERO_SECRET_KEY"],
                                      "veleroRepositoryPassword": secrets.token_urlsafe(36)})
    return Environment(cluster, engine, mc, root)
