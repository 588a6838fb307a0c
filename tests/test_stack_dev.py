"""The dev stack, run through __main__.py with Pulumi.dev.yaml's config as the CLI hands it over."""

from __future__ import annotations

import json

import pytest
import yaml

from .cli_config import cli_config
from .harness import PROJECT_DIR, run_main

STACK_URN = "urn:pulumi:dev::brrtrouter-backup::pulumi:pulumi:Stack::brrtrouter-backup-dev"


@pytest.fixture
def dev():
    return run_main(cli_config("dev"))


def test_registers_the_three_parts_and_their_children(dev):
    assert sorted((r.type, r.name) for r in dev.registrations) == sorted(
        [
            ("brrtrouter:backup:DataVolumes", "data"),
            *(("docker:index/volume:Volume", f"data-{s}") for s in ("prometheus", "loki", "grafana", "jaeger")),
            ("brrtrouter:backup:KindCluster", "kind"),
            ("docker:index/network:Network", "kind-network"),
            ("command:local:Command", "kind-cluster"),
            ("pulumi:providers:kubernetes", "kind-provider"),
            ("brrtrouter:backup:MinioServer", "minio"),
            ("random:index/randomString:RandomString", "minio-root-user"),
            ("random:index/randomPassword:RandomPassword", "minio-root-password"),
            ("random:index/randomPassword:RandomPassword", "minio-velero-secret-key"),
            ("docker:index/remoteImage:RemoteImage", "minio-image"),
            ("docker:index/volume:Volume", "minio-data"),
            ("docker:index/container:Container", "minio-container"),
            ("command:local:Command", "minio-velero-access"),
        ]
    )


def test_components_hang_under_the_stack_and_everything_else_under_a_component(dev):
    components = {r.urn for r in dev.registrations if r.type.startswith("brrtrouter:backup:")}
    for registration in dev.registrations:
        expected = {STACK_URN} if registration.urn in components else components
        assert registration.parent in expected, registration.name


def test_every_docker_volume_is_retained(dev):
    volumes = dev.of_type("docker:index/volume:Volume")
    assert len(volumes) == 5
    assert all(volume.retain_on_delete for volume in volumes)


def test_the_node_mounts_every_data_volume_at_its_service_path(dev):
    config = yaml.safe_load(dev.one("command:local:Command", "kind-cluster").values["stdin"])
    assert config["nodes"][0]["extraMounts"] == [
        {"hostPath": f"/var/lib/docker/volumes/brrtrouter-{s}-data/_data", "containerPath": f"/mnt/{s}-data"}
        for s in ("prometheus", "loki", "grafana", "jaeger")
    ]
    assert [m["hostPort"] for m in config["nodes"][0]["extraPortMappings"]] == [8080, 3000]


def test_minio_and_kind_share_the_network(dev):
    network = dev.one("docker:index/network:Network").values["name"]
    cluster = dev.one("command:local:Command", "kind-cluster").values
    container = dev.one("docker:index/container:Container").values
    assert cluster["environment"]["KIND_EXPERIMENTAL_DOCKER_NETWORK"] == network == "brrtrouter-kind"
    assert [n["name"] for n in container["networksAdvanced"]] == [network]


def test_exports(dev):
    outputs = dev.outputs
    assert outputs["minioEndpoint"] == "http://localhost:9000"
    assert outputs["minioConsoleUrl"] == "http://localhost:9001"
    assert outputs["minioClusterEndpoint"] == "http://brrtrouter-minio:9000"
    assert outputs["bucket"] == "velero"
    assert outputs["clusterName"] == "brrtrouter-dev"
    assert outputs["kubeContext"] == "kind-brrtrouter-dev"
    assert outputs["dataVolumes"]["loki"] == "brrtrouter-loki-data"
    assert dev.secret_outputs == {"kubeconfig"}


def test_no_generated_secret_is_exported_in_plain_text(dev):
    plain_exports = json.dumps({k: v for k, v in dev.outputs.items() if k not in dev.secret_outputs})
    container_env = dev.one("docker:index/container:Container").values["envs"]
    password = next(e.split("=", 1)[1] for e in container_env if e.startswith("MINIO_ROOT_PASSWORD="))
    secret_key = dev.one("command:local:Command", "minio-velero-access").values["environment"]["VELERO_SECRET_KEY"]
    assert len(password) == len(secret_key) == 40
    assert password not in plain_exports and secret_key not in plain_exports


def test_the_program_evaluates_deterministically():
    first = run_main(cli_config("dev"))
    second = run_main(cli_config("dev"))
    def state(run):
        return sorted((r.urn, json.dumps(r.values, sort_keys=True)) for r in run.registrations)

    assert state(first) == state(second)


def test_preview_evaluates_without_known_outputs():
    preview = run_main(cli_config("dev"), preview=True)
    assert len(preview.registrations) == 17
    assert preview.outputs["bucket"] == "velero"


def test_a_stack_override_reaches_the_resources():
    result = run_main(cli_config("dev", {"minioApiPort": 9200, "namePrefix": "qa"}))
    container = result.one("docker:index/container:Container").values
    assert container["name"] == "qa-minio"
    assert {p["external"] for p in container["ports"]} == {9200, 9001}
    assert result.outputs["minioClusterEndpoint"] == "http://qa-minio:9000"


def test_the_readme_documents_every_output(dev):
    readme = (PROJECT_DIR / "README.md").read_text()
    assert [name for name in dev.outputs if f"`{name}`" not in readme] == []
