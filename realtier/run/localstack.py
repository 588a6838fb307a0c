"""A local cluster on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kwok with one fake node (pods look Running/Ready without a kubelet), and MinIO.

    scripts/localstack up      start one in the background; prints where its kubeconfig is
    scripts/localstack env     shell exports for the running one (eval "$(scripts/localstack env)")
    scripts/localstack down    stop it and remove its directories

Tests use LocalStack as a context manager: it stops everything it started and removes its
directories on success, on failure and on Ctrl-C; its processes also die with the test process
when that is killed (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import random
import socket
import ssl
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..build.cache import ToolchainError, cache_root
from ..build.tools import locate
from .kubeapi import ApiError, KubeApi
from .pki import make_ca, openssl, sign
from .proctree import Process, StartedService, spawn, wait_until

CLUSTER_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "minio")
NODE_NAME = "brrtrouter-dev-control-plane"  # the dev stack's local PVs are pinned to this node name
SERVICE_CIDR = "10.96.0.0/16"
LOOPBACK = "127.0.0.1"


# Below the kernel's ephemeral range (ip_local_port_range, 32768 up by default): a port handed out
# here and bound a moment later by its server cannot meanwhile become the source port of some
# process's outgoing connection, as a port the kernel picked for bind(0) could (a CI run lost MinIO's
# that way). Ports handed out once are not handed out again by this process.
PORT_RANGE = (20000, 32767)
_handed_out: set[int] = set()


def free_port() -> int:
    for port in random.sample(range(*PORT_RANGE), 200):
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise OSError(f"no free port on {LOOPBACK} in {PORT_RANGE[0]}-{PORT_RANGE[1]}")


@dataclass
class LocalStack(StartedService):
    """One local cluster. `with LocalStack.start() as cluster:` or start()/stop()."""

    root: Path
    binaries: dict[str, Path]
    attached: bool = True  # processes die with this Python process
    node_name: str = NODE_NAME
    processes: list[Process] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    minio_user: str = "brrtrouter-local-root"
    minio_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    # --- paths and endpoints ---------------------------------------------------------------
    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports['apiserver']}"

    @property
    def minio_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['minio']}"

    @property
    def api(self) -> KubeApi:
        return KubeApi(self.server, str(self.pki / "ca.crt"), str(self.pki / "admin.crt"), str(self.pki / "admin.key"))

    def environment(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "MINIO_ENDPOINT": self.minio_endpoint,
            "MINIO_ROOT_USER": self.minio_user,
            "MINIO_ROOT_PASSWORD": self.minio_password,
        }

    # --- life cycle ------------------------------------------------------------------------
    @classmethod
    def start(cls, root: Optional[Path] = None, *, attached: bool = True, node_name: str = NODE_NAME) -> "LocalStack":
        binaries = locate(CLUSTER_BINARIES)
        return cls(root=Path(root or tempfile.mkdtemp(prefix="brrtrouter-localstack-")), binaries=binaries,
                   attached=attached, node_name=node_name)._started()

    def _start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok", "minio", "minio-console"):
            self.ports[name] = free_port()
        self._make_pki()
        self._write_kubeconfigs()
        self._start_etcd()
        self._start_apiserver()
        self._spawn("kube-controller-manager", [
            "--kubeconfig", str(self.root / "admin.kubeconfig"),
            "--authentication-kubeconfig", str(self.root / "admin.kubeconfig"),
            "--authorization-kubeconfig", str(self.root / "admin.kubeconfig"),
            "--bind-address", LOOPBACK, "--secure-port", str(self.ports["controller-manager"]),
            "--leader-elect=false", "--use-service-account-credentials",
            "--service-account-private-key-file", str(self.pki / "sa.key"),
            "--root-ca-file", str(self.pki / "ca.crt"),
            "--cluster-signing-cert-file", str(self.pki / "ca.crt"),
            "--cluster-signing-key-file", str(self.pki / "ca.key"),
            "--service-cluster-ip-range", SERVICE_CIDR,
            # kwok renews its node's lease about once a minute; a shorter grace marks every pod
            # not-Ready now and then (Deployments flap, Pulumi's await hangs).
            "--node-monitor-grace-period", "10m",
            "--controllers", "*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle,-route",
        ])
        self._spawn("kube-scheduler", [
            "--kubeconfig", str(self.root / "admin.kubeconfig"),
            "--authentication-kubeconfig", str(self.root / "admin.kubeconfig"),
            "--authorization-kubeconfig", str(self.root / "admin.kubeconfig"),
            "--bind-address", LOOPBACK, "--secure-port", str(self.ports["scheduler"]), "--leader-elect=false",
        ])
        self._start_minio()
        self._create_fake_node()
        self._spawn("kwok", [
            "--kubeconfig", str(self.root / "admin.kubeconfig"),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip", LOOPBACK, "--server-address", f"{LOOPBACK}:{self.ports['kwok']}",
        ])
        self._wait_ready()

    def stop(self) -> None:
        """Kill every process this cluster started (SIGKILL: nothing here needs a clean exit) and
        remove its directories."""
        for process in reversed(self.processes):
            process.kill()
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- parts -----------------------------------------------------------------------------
    def _spawn(self, binary: str, args: list[str], env: Optional[dict[str, str]] = None) -> Process:
        process = spawn(binary, [str(self.binaries[binary]), *args], self.root / "logs" / f"{binary}.log",
                        cwd=self.root, env=env, attached=self.attached)
        self.processes.append(process)
        return process

    def _start_etcd(self) -> None:
        self._spawn("etcd", [
            "--name", "local", "--data-dir", str(self.root / "etcd"),
            "--listen-client-urls", f"http://{LOOPBACK}:{self.ports['etcd']}",
            "--advertise-client-urls", f"http://{LOOPBACK}:{self.ports['etcd']}",
            "--listen-peer-urls", f"http://{LOOPBACK}:{self.ports['etcd-peer']}",
            "--initial-advertise-peer-urls", f"http://{LOOPBACK}:{self.ports['etcd-peer']}",
            "--initial-cluster", f"local=http://{LOOPBACK}:{self.ports['etcd-peer']}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])
        self._wait(f"etcd on port {self.ports['etcd']}", "etcd",
                   lambda: b'"health":"true"' in _http_get(f"http://{LOOPBACK}:{self.ports['etcd']}/health"))

    def _start_apiserver(self) -> None:
        pki = self.pki
        self._spawn("kube-apiserver", [
            "--etcd-servers", f"http://{LOOPBACK}:{self.ports['etcd']}",
            "--bind-address", LOOPBACK, "--advertise-address", LOOPBACK,
            "--secure-port", str(self.ports["apiserver"]),
            "--tls-cert-file", str(pki / "apiserver.crt"), "--tls-private-key-file", str(pki / "apiserver.key"),
            "--client-ca-file", str(pki / "ca.crt"),
            "--authorization-mode", "Node,RBAC",
            "--service-account-key-file", str(pki / "sa.pub"),
            "--service-account-signing-key-file", str(pki / "sa.key"),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-cluster-ip-range", SERVICE_CIDR,
            "--endpoint-reconciler-type", "none",  # a loopback address cannot be the kubernetes endpoint
            "--cert-dir", str(self.root / "apiserver-certs"),
            "--allow-privileged=true",
        ])
        self._wait("kube-apiserver /readyz", "kube-apiserver", lambda: self.api.get("/readyz") == "ok", timeout=90)

    def _start_minio(self) -> None:
        data = self.root / "minio-data"
        data.mkdir()
        self._spawn("minio", [
            "server", str(data), "--address", f"{LOOPBACK}:{self.ports['minio']}",
            "--console-address", f"{LOOPBACK}:{self.ports['minio-console']}", "--quiet",
        ], env={"MINIO_ROOT_USER": self.minio_user, "MINIO_ROOT_PASSWORD": self.minio_password,
                "MINIO_BROWSER": "off", "HOME": str(self.root)})

    def _create_fake_node(self) -> None:
        resources = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        self.api.create("/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux",
                           "kubernetes.io/arch": "amd64", "type": "kwok"},
            },
            "status": {"allocatable": resources, "capacity": resources},
        })

    def _wait_ready(self) -> None:
        api = self.api

        def node_ready() -> bool:
            node = api.get(f"/api/v1/nodes/{self.node_name}")
            return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions") or [])

        self._wait(f"fake node {self.node_name} Ready", "kwok", node_ready)
        # The controller-manager's service-account controller makes this: it is working.
        self._wait("the default service account", "kube-controller-manager",
                   lambda: api.find("/api/v1/namespaces/default/serviceaccounts/default"))
        self._wait("kube-scheduler /healthz", "kube-scheduler",
                   lambda: _http_get(f"https://{LOOPBACK}:{self.ports['scheduler']}/healthz", insecure=True) == b"ok")
        self._wait("MinIO /minio/health/ready", "minio",
                   lambda: _http_get(f"{self.minio_endpoint}/minio/health/ready", status_only=True))

    def _wait(self, what: str, process_name: str, probe, timeout: float = 60) -> None:
        process = next(p for p in self.processes if p.name == process_name)
        wait_until(what, process, probe, timeout, errors=(OSError, ApiError, ValueError))

    # --- certificates and kubeconfigs -------------------------------------------------------
    def _make_pki(self) -> None:
        pki = self.pki
        pki.mkdir(parents=True)
        make_ca(pki, "brrtrouter-localstack-ca")
        sign(pki, "apiserver", "/CN=kube-apiserver",
             "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
             "DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth")
        sign(pki, "admin", "/O=system:masters/CN=brrtrouter-localstack-admin", "extendedKeyUsage=clientAuth")
        openssl(pki, "genrsa", "-out", "sa.key", "2048")
        openssl(pki, "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")

    def kubeconfig_text(self, contexts: tuple[str, ...] = ("localstack",), current: Optional[str] = None) -> str:
        """A self-contained kubeconfig (certificates inline) with these context names, all
        pointing at this cluster as its admin. JSON, which every kubeconfig reader takes."""

        def data(name: str) -> str:
            return base64.b64encode((self.pki / name).read_bytes()).decode()

        return json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "localstack", "cluster": {"server": self.server, "certificate-authority-data": data("ca.crt")}}],
            "users": [{"name": "localstack-admin", "user": {"client-certificate-data": data("admin.crt"),
                                                             "client-key-data": data("admin.key")}}],
            "contexts": [{"name": name, "context": {"cluster": "localstack", "user": "localstack-admin"}} for name in contexts],
            "current-context": current or contexts[0],
        }, indent=1)

    def service_account_kubeconfig(self, namespace: str, name: str, path: Path) -> Path:
        """A kubeconfig that signs in as a service account (a TokenRequest token): a process run
        with it has exactly the RBAC that account was given, as its pod would in a cluster."""
        token = self.api.create(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                                {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                 "spec": {"expirationSeconds": 3600}})["status"]["token"]
        ca = base64.b64encode((self.pki / "ca.crt").read_bytes()).decode()
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "localstack", "cluster": {"server": self.server, "certificate-authority-data": ca}}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": "localstack", "user": name, "namespace": namespace}}],
            "current-context": name,
        }))
        path.chmod(0o600)
        return path

    def _write_kubeconfigs(self) -> None:
        for path in (self.kubeconfig, self.root / "admin.kubeconfig"):
            path.write_text(self.kubeconfig_text())
            path.chmod(0o600)

    # --- for `scripts/localstack` -----------------------------------------------------------
    def state(self) -> dict:
        return {"root": str(self.root), "pids": [p.popen.pid for p in self.processes], "ports": self.ports,
                **self.environment()}


def _http_get(url: str, *, insecure: bool = False, status_only: bool = False):
    context = ssl._create_unverified_context() if insecure else None  # the scheduler's self-signed health port
    with urllib.request.urlopen(url, timeout=5, context=context) as response:
        return response.status == 200 if status_only else response.read().strip()


# --- the command ---------------------------------------------------------------------------------


def state_file() -> Path:
    return cache_root() / "localstack.json"


def _running() -> Optional[dict]:
    try:
        state = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    alive = [pid for pid in state["pids"] if _alive(pid)]
    return state if alive else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def command_up() -> int:
    if _running():
        print(f"a local cluster is already running (scripts/localstack env; state in {state_file()})")
        return 0
    started = time.monotonic()
    stack = LocalStack.start(attached=False)
    state_file().write_text(json.dumps(stack.state(), indent=1))
    print(f"local cluster up in {time.monotonic() - started:.1f} s: API server {stack.server}, "
          f"MinIO {stack.minio_endpoint}, node {stack.node_name}")
    print(f"kubeconfig: {stack.kubeconfig}\nenvironment: eval \"$(scripts/localstack env)\"\nstop: scripts/localstack down")
    return 0


def command_env() -> int:
    state = _running()
    if not state:
        print("no local cluster is running: scripts/localstack up", file=sys.stderr)
        return 1
    for name in ("KUBECONFIG", "MINIO_ENDPOINT", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        print(f"export {name}={_shell_quote(state[name])}")
    return 0


def command_down() -> int:
    try:
        state = json.loads(state_file().read_text())
    except (OSError, ValueError):
        print("no local cluster to stop")
        return 0
    for pid in state["pids"]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in state["pids"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    shutil.rmtree(state["root"], ignore_errors=True)
    state_file().unlink()
    print(f"stopped {len(state['pids'])} processes and removed {state['root']}")
    return 0


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/localstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "env"])
    args = parser.parse_args(argv)
    try:
        return {"up": command_up, "down": command_down, "env": command_env}[args.command]()
    except (ToolchainError, RuntimeError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
