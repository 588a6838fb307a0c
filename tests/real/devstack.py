"""The dev stack as a user runs it: `./scripts/up --yes` in a copy of the project, with the built
tools first on PATH, on the tests' Docker daemon, making a real kind cluster from the node image
built here. One stack serves the dev stack's tests (test_dev_stack*.py, through the session's
`dev_stack` fixture) and the benchmark (scripts/realbench.py)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import yaml

from realtier.build import cache, images, tools
from realtier.run.dockerd import Daemon
from realtier.run.engine import PROJECT_DIR, Engine
from realtier.run.kubeapi import KubeApi
from realtier.run.localstack import free_port

from .stacks import LOCAL_CHART

STACK = "dev"
APP = "brrtrouter-dev"
SERVICES = ("prometheus", "loki", "grafana", "jaeger")
CLUSTER = "brrtrouter-dev"
CONTEXT = f"kind-{CLUSTER}"
NODE = f"{CLUSTER}-control-plane"
MINIO = "brrtrouter-minio"
NETWORK = "brrtrouter-kind"
DATA_VOLUMES = tuple(f"brrtrouter-{service}-data" for service in SERVICES)
VOLUMES = (*DATA_VOLUMES, "brrtrouter-minio-data")
# Where the images come from, one switch (BRRTROUTER_IMAGE_SOURCE):
#   built   (default) the node and MinIO images built here, the chart from the local copy, the
#           tools from scripts/engine: a machine without network, ours and CI's;
#   pulled  the committed config as it is (kindest/node, quay.io's MinIO, the chart's repository)
#           and kind, velero and kubectl from PATH: a machine with network (the GitHub job).
IMAGE_SOURCES = ("built", "pulled")
IMAGE_SOURCE = os.environ.get("BRRTROUTER_IMAGE_SOURCE", "built")
# What the committed Pulumi.dev.yaml leaves to a machine without network: the node image and MinIO's
# (built here: none can be pulled) and the chart (the local copy). The repository password is
# ./scripts/up's own.
MACHINE_CONFIG = {
    "built": {"kindNodeImage": images.KIND_NODE_IMAGE, "minioImage": images.MINIO_IMAGE, "veleroChart": LOCAL_CHART},
    "pulled": {},
}
# The parts of the project ./scripts/up and the just recipes use, besides the program.
SCRIPT_PARTS = ("scripts", "requirements.txt", "justfile")
# A busybox image the node carries: the tests' own pods run it.
BUSYBOX_IMAGE = images.LOCAL_PATH_HELPER_IMAGE


def app_ports_on_free_host_ports() -> list[str]:
    """The committed stack file's port mappings with free host ports: its 8080 and 3000 may be taken
    on a test machine, and a local Velero server (test_round_trip) needs 8080 itself."""
    committed = yaml.safe_load((PROJECT_DIR / f"Pulumi.{STACK}.yaml").read_text())["config"]
    return [f"{free_port()}:{mapping.rsplit(':', 1)[1]}" for mapping in committed["brrtrouter-backup:kindPortMappings"]]


def docker_cli(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr}")
    return result


def exists(kind: str, name: str) -> bool:
    return docker_cli(kind, "inspect", name, check=False).returncode == 0


def taken_names() -> list[str]:
    """Docker objects of a dev stack already on this machine: the test would take their names."""
    found = [name for name in (NODE, MINIO) if exists("container", name)]
    found += [name for name in (NETWORK,) if exists("network", name)]
    return found + [name for name in VOLUMES if exists("volume", name)]


def cli_tools(*names: str) -> dict[str, Path]:
    """The command-line tools the stack and the recipes run: built here, or the machine's own."""
    if IMAGE_SOURCE == "built":
        return tools.locate(names)
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if not path]
    if missing:
        raise cache.ToolchainError(f"BRRTROUTER_IMAGE_SOURCE=pulled uses the machine's tools: {', '.join(missing)} not on PATH")
    return {name: Path(path) for name, path in found.items()}


def machine_images() -> list[str]:
    """The images the tests' daemon must hold before the stack goes up (none where they are pulled)."""
    if IMAGE_SOURCE not in IMAGE_SOURCES:
        raise cache.ToolchainError(f"BRRTROUTER_IMAGE_SOURCE is {IMAGE_SOURCE!r}; expected one of {', '.join(IMAGE_SOURCES)}")
    return [images.KIND_NODE_IMAGE, images.MINIO_IMAGE] if IMAGE_SOURCE == "built" else []


def remove_everything() -> None:
    """What the dev stack makes, gone: the cluster, MinIO, the network and the five volumes."""
    kind = cli_tools("kind")["kind"]
    subprocess.run([str(kind), "delete", "cluster", "--name", CLUSTER], capture_output=True, timeout=300)
    docker_cli("rm", "--force", "--volumes", NODE, MINIO, check=False)
    docker_cli("network", "rm", NETWORK, check=False)
    docker_cli("volume", "rm", "--force", *VOLUMES, check=False)


def api_from_kubeconfig(text: str, context: str, folder: Path) -> KubeApi:
    """A client for `context` of a kubeconfig holding inline certificates, as kind writes it."""
    config = yaml.safe_load(text)
    entry = next(c["context"] for c in config["contexts"] if c["name"] == context)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == entry["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == entry["user"])
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in (("ca", cluster["certificate-authority-data"]), ("cert", user["client-certificate-data"]),
                       ("key", user["client-key-data"])):
        files[name] = folder / f"{name}.pem"
        files[name].write_bytes(base64.b64decode(data))
        files[name].chmod(0o600)
    return KubeApi(cluster["server"], str(files["ca"]), str(files["cert"]), str(files["key"]))


class DevStack:
    """The dev stack in its own copy of the project, with its own Pulumi state and kubeconfig."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.engine = Engine.create(root / "engine")
        for part in SCRIPT_PARTS:
            source = PROJECT_DIR / part
            copy = shutil.copytree if source.is_dir() else shutil.copy2
            copy(source, self.engine.project / part)
        self.kubeconfig = root / "kubeconfig"  # kind writes its context here, not to ~/.kube/config
        self.engine.env["KUBECONFIG"] = str(self.kubeconfig)
        # The CLI's own tools, kind (the stack runs it, up and destroy), velero and kubectl (the recipes).
        binaries = [self.engine.binaries["pulumi"], *cli_tools("kind", "velero", "kubectl").values()]
        self.engine.env["PATH"] = os.pathsep.join([*dict.fromkeys(str(path.parent) for path in binaries), os.environ["PATH"]])
        self.engine.init_stack(STACK, {**MACHINE_CONFIG[IMAGE_SOURCE], "kindPortMappings": app_ports_on_free_host_ports()})
        self._api: KubeApi | None = None

    @staticmethod
    def setting(key: str) -> str:
        """A config value of the stack: the machine's, else the project's default."""
        project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
        return MACHINE_CONFIG[IMAGE_SOURCE].get(key) or project[key]["default"]

    @property
    def node_image(self) -> str:
        return self.setting("kindNodeImage")

    @property
    def plugin_image(self) -> str:
        return self.setting("veleroAwsPluginImage")

    def environment(self) -> dict[str, str]:
        return self.engine.environment()

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """The README's first command, as a user types it; its output kept in a log file."""
        started, started_at = time.monotonic(), time.time()
        result = subprocess.run(["./scripts/up", "--yes", *args], cwd=self.engine.project, env=self.environment(),
                                capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
        result.started_at, result.ended_at = started_at, time.time()  # type: ignore[attr-defined]
        log = self.root / f"up-{int(started)}.log"
        log.write_text(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"./scripts/up --yes exited {result.returncode} (log {log}):\n{(result.stdout + result.stderr)[-6000:]}")
        self._api = None
        result.seconds = time.monotonic() - started  # type: ignore[attr-defined]
        return result

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            self._api = api_from_kubeconfig(self.kubeconfig.read_text(), CONTEXT, self.root / f"certs-{time.monotonic_ns()}")
        return self._api

    def run(self, *command: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(list(command), cwd=self.engine.project, env=self.environment(), capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def set_repository_password(self, password: str) -> None:
        """Without an up (on stdin: a generated password may begin with '-', which the CLI would take for a flag)."""
        self.engine.set_config(STACK, "veleroRepositoryPassword", password, secret=True)

    def velero(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.run("velero", "--kubecontext", CONTEXT, "--namespace", "velero", *args, timeout=timeout)

    def just(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(PROJECT_DIR / ".venv" / "bin" / "just"), *args, check=check)

    def backups(self) -> dict[str, dict]:
        return {b["metadata"]["name"]: b for b in self.api.items("/apis/velero.io/v1/namespaces/velero/backups")}

    def mc(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """MinIO's client as its root user (read from the container), the server as `local`."""
        env = dict(entry.split("=", 1) for entry in container(MINIO)["Config"]["Env"] if "=" in entry)
        result = subprocess.run(
            [str(cli_tools("mc")["mc"]), *args], capture_output=True, text=True, timeout=timeout,
            env={**self.environment(), "MC_CONFIG_DIR": str(self.root / "mc"),
                 "MC_HOST_local": f"http://{env['MINIO_ROOT_USER']}:{env['MINIO_ROOT_PASSWORD']}@127.0.0.1:"
                                  f"{self.setting('minioApiPort')}"})
        if check and result.returncode != 0:
            raise AssertionError(f"mc {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def run_pod(self, name: str, script: str, claim: str | None = None, timeout: float = 120) -> str:
        """Run `script` in a pod in the application's namespace (with `claim` at /data); its log."""
        volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}] if claim else []
        mounts = [{"name": "data", "mountPath": "/data"}] if claim else []
        self.api.create(f"/api/v1/namespaces/{APP}/pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": APP},
            "spec": {"restartPolicy": "Never", "volumes": volumes, "containers": [{
                "name": "main", "image": BUSYBOX_IMAGE, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", script], "volumeMounts": mounts}]}})
        path = f"/api/v1/namespaces/{APP}/pods/{name}"
        phase = self.api.wait_for(f"pod {name} finished", lambda: self.api.get(path)["status"].get("phase")
                                  in ("Succeeded", "Failed") and self.api.get(path)["status"]["phase"], timeout=timeout)
        log = self.api.request("GET", f"{path}/log")
        self.api.delete(path)
        assert phase == "Succeeded", f"pod {name}: {phase}\n{log}"
        return log


def volume_mountpoint(name: str) -> Path:
    return Path(docker_cli("volume", "inspect", "--format", "{{.Mountpoint}}", name).stdout.strip())


def container(name: str) -> dict:
    return json.loads(docker_cli("inspect", name).stdout)[0]


class DevStackUnavailable(Exception):
    """Why the dev stack cannot go up on this machine, in one sentence."""


@contextlib.contextmanager
def dev_stack_up(root: Path, docker: Daemon, extra_images: tuple[str, ...] = ()) -> Iterator[DevStack]:
    """The dev stack, up by ./scripts/up --yes in `docker`; destroyed, with everything it made, at
    the end. In a daemon the tests started, a dev stack already there is a killed run's (the daemon
    keeps the tests' data apart) and goes first; in the machine's own daemon it may be a user's:
    DevStackUnavailable then, as where the stack cannot run."""
    taken = taken_names()
    if taken and docker.state == "started":
        remove_everything()
    elif taken:
        raise DevStackUnavailable(f"a dev stack is already on this machine ({', '.join(taken)}); the test would take "
                                  "its names: destroy it (and its volumes) first")
    try:
        images.ensure_loaded([*machine_images(), *extra_images])
    except cache.ToolchainError as error:
        raise DevStackUnavailable(f"the real tier cannot run here: {error}") from error
    stack = DevStack(root)
    try:
        stack.first_up = stack.up()  # type: ignore[attr-defined]
        yield stack
    finally:
        stack.engine.destroy(STACK, check=False)
        remove_everything()


LOCATION = "/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default"


def location_phase(api: KubeApi) -> str | None:
    return location_status(api).get("phase")


def location_status(api: KubeApi) -> dict:
    """The location's status (phase, message, last validation), for waits and failure messages."""
    return (api.find(LOCATION) or {}).get("status") or {}


def wait_for_location(api: KubeApi, phase: str = "Available", timeout: float = 600) -> None:
    """Until Velero has validated the location `default` and found it in `phase`."""
    api.wait_for(f"the location default {phase}", lambda: location_phase(api) == phase, timeout=timeout, interval=1)


def moment(text: str | None) -> float | None:
    """Seconds since the epoch of a Docker or Kubernetes time stamp (RFC 3339, any precision)."""
    if not text or text.startswith("0001-"):
        return None
    whole, _, rest = text.rstrip("Z").partition(".")
    fraction = float(f"0.{rest.split('+')[0].split('-')[0]}") if rest else 0.0
    return dt.datetime.fromisoformat(whole).replace(tzinfo=dt.timezone.utc).timestamp() + fraction


def _ready_since(pod: dict) -> float | None:
    condition = next((c for c in pod.get("status", {}).get("conditions", []) if c["type"] == "Ready"), {})
    return moment(condition.get("lastTransitionTime")) if condition.get("status") == "True" else None


def up_timeline(api: KubeApi, started: float, ended: float) -> list[tuple[str, float]]:
    """Where an up's time went: each milestone of the dev stack as seconds after `started` (epoch
    seconds), read from the objects' own time stamps (Docker's to the nanosecond, Kubernetes' to
    the second), in order."""
    network = json.loads(docker_cli("network", "inspect", NETWORK).stdout)[0]
    node, minio = container(NODE), container(MINIO)
    pods = api.items("/api/v1/namespaces/velero/pods")
    server = next(pod for pod in pods if pod["metadata"]["name"].startswith("velero-"))
    agent = next(pod for pod in pods if pod["metadata"]["name"].startswith("node-agent-"))
    location = api.get(LOCATION)
    moments = {
        "the network (first Docker object)": moment(network["Created"]),
        "the kind node started": moment(node["State"]["StartedAt"]),
        "MinIO started": moment(minio["State"]["StartedAt"]),
        "the control plane's first object (kube-system)": moment(
            api.get("/api/v1/namespaces/kube-system")["metadata"]["creationTimestamp"]),
        "the node Ready": moment(next(c for c in api.get(f"/api/v1/nodes/{NODE}")["status"]["conditions"]
                                       if c["type"] == "Ready")["lastTransitionTime"]),
        "the first object of ours (the application's namespace)": moment(
            api.get(f"/api/v1/namespaces/{APP}")["metadata"]["creationTimestamp"]),
        "Velero's CRDs": moment(api.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io")
                                 ["metadata"]["creationTimestamp"]),
        "the location created": moment(location["metadata"]["creationTimestamp"]),
        "Velero's pod created": moment(server["metadata"]["creationTimestamp"]),
        "Velero Ready": _ready_since(server),
        "the node agent Ready": _ready_since(agent),
        "the location Available (its last validation)": moment(location.get("status", {}).get("lastValidationTime")),
        "up returned": ended,
    }
    return sorted(((name, round(moment - started, 1)) for name, moment in moments.items() if moment is not None),
                  key=lambda item: item[1])
