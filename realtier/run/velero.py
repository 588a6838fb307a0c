"""A real Velero v1.18.1 server, run as a local process against the local cluster (out of cluster:
no kubelet runs its pod here), and the velero CLI.

It runs with whatever kubeconfig it is given: the admin's, or a service account's token
(LocalStack.service_account_kubeconfig), so that it has exactly the RBAC the stack gave Velero.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..build.tools import locate
from .kubeapi import ApiError
from .localstack import LOOPBACK, free_port
from .proctree import Process, StartedService, spawn, wait_until

VELERO_BINARIES = ("velero", "velero-plugin-for-aws")


# Velero 1.18.1 starts controller-runtime's own metrics server on :8080, every interface, with no
# flag to move it (its metrics are served at --metrics-address); a server started while something
# holds 8080 exits at once.
CONTROLLER_METRICS_PORT = 8080


def controller_metrics_port_free() -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", CONTROLLER_METRICS_PORT))
        except OSError as error:
            raise RuntimeError(
                f"a local Velero server needs port {CONTROLLER_METRICS_PORT} free ({error}): Velero 1.18.1 binds "
                f"controller-runtime's metrics there on every interface and cannot be told otherwise; stop what "
                f"listens on it (ss -ltnp 'sport = :{CONTROLLER_METRICS_PORT}')") from None


@dataclass
class VeleroServer(StartedService):
    root: Path
    kubeconfig: Path
    namespace: str = "velero"
    binaries: dict[str, Path] = field(default_factory=dict)
    process: Optional[Process] = None
    metrics_port: int = 0

    @classmethod
    def start(cls, root: Path, kubeconfig: Path, namespace: str = "velero") -> "VeleroServer":
        return cls(root, kubeconfig, namespace, locate(VELERO_BINARIES))._started()

    def _start(self) -> None:
        plugins = self.root / "plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        plugin = plugins / "velero-plugin-for-aws"
        if not plugin.exists():
            plugin.symlink_to(self.binaries["velero-plugin-for-aws"])
        tmp = self.root / "tmp"  # Velero writes the location's credentials file here
        tmp.mkdir(exist_ok=True)
        self.metrics_port = free_port()
        controller_metrics_port_free()
        self.process = spawn("velero", [
            str(self.binaries["velero"]), "server", "--kubeconfig", str(self.kubeconfig), "--namespace", self.namespace,
            "--plugin-dir", str(plugins), "--metrics-address", f"{LOOPBACK}:{self.metrics_port}",
            "--profiler-address", f"{LOOPBACK}:{free_port()}", "--backup-sync-period", "5s",
            "--store-validation-frequency", "5s", "--log-level", "info",
        ], self.root / "velero-server.log", cwd=self.root, env={"TMPDIR": str(tmp), "HOME": str(self.root)})
        wait_until("Velero's metrics endpoint", self.process, lambda: self.metrics(), timeout=60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{self.metrics_port}/metrics", timeout=5) as response:
            return response.read().decode()

    def wait_for_location(self, api, name: str = "default", timeout: float = 30) -> dict:
        """The storage location, once Velero found it Available."""
        path = f"/apis/velero.io/v1/namespaces/{self.namespace}/backupstoragelocations/{name}"
        return wait_until(f"storage location {name} Available", self.process,
                          lambda: (api.get(path) if api.get(path).get("status", {}).get("phase") == "Available" else None),
                          timeout=timeout, errors=(OSError, ValueError, ApiError))

    def cli(self, *args: str, kubeconfig: Optional[Path] = None, timeout: float = 180) -> subprocess.CompletedProcess:
        """The velero CLI against this server's namespace (as the admin, unless told otherwise)."""
        return subprocess.run([str(self.binaries["velero"]), "--kubeconfig", str(kubeconfig or self.kubeconfig),
                               "--namespace", self.namespace, *args], capture_output=True, text=True, timeout=timeout)

    def backups(self, api) -> dict[str, dict]:
        return {b["metadata"]["name"]: b for b in api.items(f"/apis/velero.io/v1/namespaces/{self.namespace}/backups")}

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.process.log.read_text(errors="replace").splitlines() if needle in line]


def as_json(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout)
