"""MinioServer: MinIO on the cluster's network, its retained volume, the bucket and Velero's user."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from velero_pulumi.components import MinioServer, MinioServerArgs
from velero_pulumi.components.minio_server import access_setup_script, bucket_policy

from .harness import FAKE_KUBECONFIG, resolve, run

ARGS = MinioServerArgs(
    image="quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
    container_name="brrtrouter-minio",
    data_volume_name="brrtrouter-minio-data",
    network_name="brrtrouter-kind",
    listen_address="127.0.0.1",
    api_port=9100,
    console_port=9101,
    bucket="velero",
    region="us-east-1",
    velero_user="velero",
    labels={"team": "platform"},
)
CONTAINER = "docker:index/container:Container"
COMMAND = "command:local:Command"


@pytest.fixture
def built():
    holder = {}

    def program():
        holder["minio"] = MinioServer("minio", ARGS)

    result = run(program)
    return result, holder["minio"]


def test_image_is_the_pinned_one_and_kept_locally(built):
    result, _ = built
    image = result.one("docker:index/remoteImage:RemoteImage")
    assert image.values["name"] == ARGS.image
    assert image.values["keepLocally"] is True
    container = result.one(CONTAINER)
    assert container.values["image"].startswith("sha256:")


def test_api_and_console_published_on_configured_host_ports(built):
    result, _ = built
    ports = result.one(CONTAINER).values["ports"]
    assert sorted((p["internal"], p["external"], p["ip"]) for p in ports) == [
        (9000, 9100, "127.0.0.1"),
        (9001, 9101, "127.0.0.1"),
    ]
    assert result.one(CONTAINER).values["command"] == [
        "server", "/data", "--address", ":9000", "--console-address", ":9001",
    ]


def test_data_volume_is_retained_and_mounted_at_data(built):
    result, _ = built
    volume = result.one("docker:index/volume:Volume")
    assert volume.values["name"] == "brrtrouter-minio-data"
    assert volume.retain_on_delete
    mounts = result.one(CONTAINER).values["volumes"]
    assert mounts == [{"volumeName": "brrtrouter-minio-data", "containerPath": "/data"}]


def test_container_joins_the_cluster_network_under_its_name(built):
    result, _ = built
    assert result.one(CONTAINER).values["networksAdvanced"] == [
        {"name": "brrtrouter-kind", "aliases": ["brrtrouter-minio"]}
    ]


def test_healthcheck_restart_and_wait_for_healthy(built):
    result, _ = built
    container = result.one(CONTAINER).values
    assert container["healthcheck"]["tests"] == ["CMD", "mc", "ready", "local"]
    assert container["restart"] == "unless-stopped"
    assert container["wait"] is True and container["waitTimeout"] >= 60


def test_root_credentials_are_generated_and_secret(built):
    result, _ = built
    assert result.one("random:index/randomString:RandomString").name == "minio-root-user"
    passwords = {r.name: r.values for r in result.of_type("random:index/randomPassword:RandomPassword")}
    assert passwords["minio-root-password"]["length"] >= 32
    assert passwords["minio-velero-secret-key"]["length"] >= 32
    container = result.one(CONTAINER)
    assert container.secret("envs")
    envs = dict(item.split("=", 1) for item in container.values["envs"])
    assert set(envs) == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_SITE_REGION"}
    assert envs["MINIO_SITE_REGION"] == "us-east-1"
    assert len(envs["MINIO_ROOT_PASSWORD"]) == 40


def test_velero_access_runs_after_minio_is_healthy_and_keeps_secrets_out_of_the_script(built):
    result, _ = built
    access = result.one(COMMAND)
    container = result.one(CONTAINER)
    assert container.urn in access.dependencies
    values = access.values
    assert values["create"] == values["update"]
    assert "docker exec -i -e MC_HOST_local -e VELERO_ACCESS_KEY -e VELERO_SECRET_KEY brrtrouter-minio sh -s" == values["create"]
    # The root credentials and Velero's secret key travel only as secret environment.
    assert access.secret("environment")
    secret_key = values["environment"]["VELERO_SECRET_KEY"]
    assert len(secret_key) == 40
    assert secret_key not in values["stdin"] and secret_key not in values["create"]
    # A new container re-runs the setup as an update (the command SDK replaces on any trigger
    # change); and a replacement deletes the old user before creating the new one.
    assert values["environment"]["MINIO_CONTAINER_ID"] == "minio-container-id"
    assert "triggers" not in values
    assert access.delete_before_replace


def test_mc_credentials_point_at_the_container_itself(built):
    result, _ = built
    host = result.one(COMMAND).values["environment"]["MC_HOST_local"]
    assert re.fullmatch(r"http://[a-z0-9]{16}:[A-Za-z0-9]{40}@localhost:9000", host)


def test_bucket_creation_is_idempotent_and_policy_limited_to_the_bucket():
    script = access_setup_script("velero", "velero-readwrite")
    assert "mc mb --ignore-existing local/velero" in script
    assert "mc admin policy create local velero-readwrite" in script
    assert 'mc admin user add local "$VELERO_ACCESS_KEY" "$VELERO_SECRET_KEY"' in script
    policy = json.loads(script.split("<<'POLICY'\n", 1)[1].split("\nPOLICY\n", 1)[0])
    resources = {resource for statement in policy["Statement"] for resource in statement["Resource"]}
    assert resources == {"arn:aws:s3:::velero", "arn:aws:s3:::velero/*"}
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert not any(action.startswith("admin:") or action == "s3:*" for action in actions)
    assert {"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket"} <= actions


def test_endpoints_reach_minio_from_host_and_from_inside_the_cluster(built):
    _, minio = built
    assert minio.host_endpoint == "http://localhost:9100"
    assert minio.console_url == "http://localhost:9101"
    # By container name on the shared network: host.docker.internal does not resolve in KIND on Linux.
    assert minio.cluster_endpoint == "http://brrtrouter-minio:9000"


def test_velero_credentials_are_secret_outputs(built):
    _, minio = built
    from .harness import is_secret_output

    assert resolve(minio.velero_access_key) == "velero"
    for output in (minio.velero_access_key, minio.velero_secret_key, minio.root_user, minio.root_password):
        assert is_secret_output(output)


def test_all_children_are_parented_to_the_component(built):
    result, _ = built
    component = result.one("brrtrouter:backup:MinioServer")
    children = [r for r in result.registrations if r is not component]
    assert children and all(r.parent == component.urn for r in children)
    assert FAKE_KUBECONFIG not in json.dumps([r.values for r in children])


def run_setup_script(tmp_path, attach_exit: int, attach_output: str = "") -> tuple[subprocess.CompletedProcess, list[str]]:
    """The bucket/user script under `sh -s`, as `docker exec ... sh -s` runs it, against a stand-in mc."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "mc.log"
    (bin_dir / "mc").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        f'case "$*" in *"policy create"*) cp "$6" "{tmp_path}/policy-seen.json";; esac\n'
        f'case "$*" in *"policy attach"*) echo "{attach_output}"; exit {attach_exit};; esac\n'
    )
    (bin_dir / "mc").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "VELERO_ACCESS_KEY": "velero",
        "VELERO_SECRET_KEY": "s3cr3t-from-env",
    }
    result = subprocess.run(
        ["sh", "-s"], input=access_setup_script("velero", "velero-readwrite"), env=env,
        capture_output=True, text=True, timeout=30,
    )
    return result, log.read_text().splitlines()


def test_setup_script_creates_bucket_policy_user_and_attachment(tmp_path):
    result, calls = run_setup_script(tmp_path, attach_exit=0)
    assert result.returncode == 0, result.stderr
    assert calls == [
        "mb --ignore-existing local/velero",
        "admin policy create local velero-readwrite /tmp/velero-readwrite.json",
        "admin user add local velero s3cr3t-from-env",
        "admin policy attach local velero-readwrite --user velero",
    ]
    assert json.loads((tmp_path / "policy-seen.json").read_text()) == bucket_policy("velero")
    assert not Path("/tmp/velero-readwrite.json").exists()


def test_setup_script_is_idempotent_when_the_policy_is_already_attached(tmp_path):
    result, _ = run_setup_script(tmp_path, attach_exit=1, attach_output="The specified policy change is already in effect.")
    assert result.returncode == 0, result.stderr


def test_setup_script_fails_on_any_other_attach_error(tmp_path):
    result, _ = run_setup_script(tmp_path, attach_exit=1, attach_output="mc: <ERROR> Unable to attach policy")
    assert result.returncode == 1
    assert "Unable to attach policy" in result.stderr
