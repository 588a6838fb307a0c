"""The dev stack's Docker layer on a real Docker daemon: the data volumes and MinIO, in a MinIO
image built here (FROM scratch: busybox-static, the built minio and mc), set through the stack's
own minioImage config; and the stack's generated kind config read by kind's own loader."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from realtier.build import cache, images, tools
from realtier.run.engine import Engine
from realtier.run.localstack import free_port

from ..stacks import run_stack
from .stacks import LOCAL_CHART, init_committed_stack

SERVICES = ("prometheus", "loki", "grafana", "jaeger")


def docker_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr}")
    return result


@pytest.fixture(scope="module")
def image(docker):
    try:
        images.ensure_loaded([images.MINIO_IMAGE])
    except cache.ToolchainError as error:
        pytest.fail(f"the real tier cannot run here: {error}", pytrace=False)
    return images.MINIO_IMAGE


@pytest.fixture(scope="module")
def layer(image, run_id, tmp_path_factory):
    """The Docker layer, up; everything it made (volumes included) removed at the end."""
    engine = Engine.create(tmp_path_factory.mktemp("docker-layer") / "engine")
    shutil.copy(Path(__file__).with_name("docker_layer_main.py"), engine.project / "__main__.py")
    init_committed_stack(engine, "dev", {
        "namePrefix": run_id, "minioImage": image, "veleroChart": LOCAL_CHART, "kindPortMappings": [],
        "minioApiPort": str(free_port()), "minioConsolePort": str(free_port()), "kindApiServerPort": str(free_port()),
    })
    try:
        first = engine.up("dev")
        yield engine, first
    finally:
        engine.destroy("dev", check=False)
        docker_cli("rm", "--force", f"{run_id}-minio", check=False)
        for name in [f"{run_id}-{service}-data" for service in (*SERVICES, "minio")]:
            docker_cli("volume", "rm", "--force", name, check=False)
        docker_cli("network", "rm", f"{run_id}-kind", check=False)


def mc(engine, *args: str, user: str = "root") -> subprocess.CompletedProcess:
    outputs = engine.outputs("dev", show_secrets=True)
    endpoint = outputs["minioEndpoint"].split("://", 1)[1]
    key, secret = ((outputs["minioRootUser"], outputs["minioRootPassword"]) if user == "root"
                   else (outputs["veleroAccessKey"], outputs["veleroSecretKey"]))
    binary = tools.locate(("mc",))["mc"]
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MC_CONFIG_DIR": str(engine.root / "mc"),
                               "MC_HOST_s3": f"http://{key}:{secret}@{endpoint}"})


def test_minio_turns_healthy_through_our_healthcheck_with_the_bucket_and_user_our_script_made(layer, run_id):
    engine, _ = layer
    health = docker_cli("inspect", "--format", "{{.State.Health.Status}}", f"{run_id}-minio").stdout.strip()
    assert health == "healthy"
    listed = mc(engine, "ls", "s3").stdout
    assert "velero/" in listed
    users = mc(engine, "admin", "user", "info", "s3", "velero")
    assert users.returncode == 0 and "velero-readwrite" in users.stdout


def test_the_velero_user_can_write_only_its_bucket(layer, tmp_path):
    engine, _ = layer
    sample = tmp_path / "sample.txt"
    sample.write_text("backup bytes")
    assert mc(engine, "cp", str(sample), "s3/velero/probe/sample.txt", user="velero").returncode == 0
    assert "sample.txt" in mc(engine, "ls", "--recursive", "s3/velero/probe/", user="velero").stdout
    assert mc(engine, "rm", "s3/velero/probe/sample.txt", user="velero").returncode == 0
    refused = mc(engine, "mb", "s3/another-bucket", user="velero")
    assert refused.returncode != 0 and "Access Denied" in refused.stdout + refused.stderr
    assert mc(engine, "ls", "s3/another-bucket", user="velero").returncode != 0


def test_a_second_up_changes_nothing(layer):
    engine, _ = layer
    engine.preview("dev", "--expect-no-changes")
    again = engine.up("dev")
    assert "+ " not in again.stdout.split("Resources:", 1)[1] and "~ " not in again.stdout.split("Resources:", 1)[1]


def test_destroy_leaves_all_five_data_volumes(layer, run_id):
    engine, _ = layer
    engine.destroy("dev")
    assert docker_cli("ps", "--all", "--quiet", "--filter", f"name={run_id}-minio").stdout.strip() == ""
    volumes = set(docker_cli("volume", "ls", "--format", "{{.Name}}").stdout.split())
    assert {f"{run_id}-{service}-data" for service in (*SERVICES, "minio")} <= volumes


def kind_config(tmp_path: Path, name: str) -> Path:
    """The kind config the dev stack generates (what its kind command gets on stdin)."""
    command = run_stack("dev").one("command:local:Command", "kind-cluster").values
    path = tmp_path / "kind.yaml"
    path.write_text(command["stdin"].replace("name: brrtrouter-dev\n", f"name: {name}\n"))
    return path


def test_kinds_own_loader_accepts_our_generated_config(docker, tmp_path, run_id):
    kind = tools.locate(("kind",))["kind"]
    name = f"{run_id}-kind-check"
    good = subprocess.run([str(kind), "create", "cluster", "--config", str(kind_config(tmp_path, name))],
                          capture_output=True, text=True, timeout=180)
    output = good.stdout + good.stderr
    # Loaded and validated; it stops only where it would pull the node image (none can be pulled here).
    assert "Ensuring node image" in output and "failed to pull image" in output, output
    assert docker_cli("ps", "--all", "--quiet", "--filter", f"label=io.x-k8s.kind.cluster={name}").stdout.strip() == ""
    broken = kind_config(tmp_path, name)
    broken.write_text(broken.read_text().replace("extraMounts", "extraMountz"))
    refused = subprocess.run([str(kind), "create", "cluster", "--config", str(broken)], capture_output=True,
                             text=True, timeout=60)
    assert "unable to decode config" in refused.stderr and "extraMountz" in refused.stderr
