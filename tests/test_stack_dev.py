"""The dev stack, run through __main__.py with Pulumi.dev.yaml's config as the CLI hands it over."""

from __future__ import annotations

import json
from collections import Counter

import yaml

from velero_pulumi.config.backends import BACKENDS

from .cli_config import cli_config
from .harness import PROJECT_DIR, config_error, run_main

STACK_URN = "urn:pulumi:dev::brrtrouter-backup::pulumi:pulumi:Stack::brrtrouter-backup-dev"


def test_registers_every_part_of_the_environment(dev):
    assert Counter(r.type for r in dev.registrations) == {
        "brrtrouter:backup:DataVolumes": 1,
        "docker:index/volume:Volume": 5,
        "brrtrouter:backup:KindCluster": 1,
        "docker:index/network:Network": 1,
        "command:local:Command": 2,
        "pulumi:providers:kubernetes": 1,
        "brrtrouter:backup:MinioServer": 1,
        "random:index/randomString:RandomString": 1,
        "random:index/randomPassword:RandomPassword": 2,
        "docker:index/remoteImage:RemoteImage": 1,
        "docker:index/container:Container": 1,
        "brrtrouter:backup:ApplicationNamespace": 1,
        "kubernetes:core/v1:NamespacePatch": 2,
        "brrtrouter:backup:WorkloadStorage": 1,
        "kubernetes:storage.k8s.io/v1:StorageClass": 1,
        "kubernetes:core/v1:PersistentVolume": 4,
        "kubernetes:core/v1:PersistentVolumeClaim": 4,
        "brrtrouter:backup:VeleroInstall": 1,
        "kubernetes:core/v1:Secret": 2,
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": 13,
        "kubernetes:helm.sh/v4:Chart": 1,
        "brrtrouter:backup:BackupStorageLocation": 1,
        "kubernetes:velero.io/v1:BackupStorageLocation": 1,
        "brrtrouter:backup:BackupSchedule": 12,
        "kubernetes:velero.io/v1:Schedule": 12,
        "brrtrouter:backup:VeleroAlerts": 1,
        "brrtrouter:backup:VeleroDashboard": 1,
        "kubernetes:core/v1:ConfigMap": 3,
    }


def test_every_kubernetes_object_goes_to_the_kind_cluster(dev):
    provider = dev.one("pulumi:providers:kubernetes")
    objects = [r for r in dev.registrations if r.type.startswith("kubernetes:") and r.custom and "providers" not in r.type]
    assert len(objects) == 28 + 13 + 1  # Velero's CRDs, the node agent's ConfigMap
    assert {r.provider.rsplit("::", 1)[0] for r in objects} == {provider.urn}


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
    assert len(preview.registrations) == len(run_main(cli_config("dev")).registrations)
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
    row = next(line for line in readme.splitlines() if line.startswith("| `storageBackend` |"))
    assert [kind for kind in BACKENDS if f"`{kind}`" not in row] == []


PASSWORD_KEY = "brrtrouter-backup:veleroRepositoryPassword"


def test_a_pinned_repository_password_from_a_secret_replaces_the_generated_one():
    pinned = "kept-across-destroy-0123456789"
    result = run_main(cli_config("dev", {"veleroRepositoryPassword": pinned}), secret_keys=(PASSWORD_KEY,))
    names = {r.name for r in result.of_type("random:index/randomPassword:RandomPassword")}
    assert "velero-repository-password" not in names
    secret = next(
        r for r in result.of_type("kubernetes:core/v1:Secret") if r.values["metadata"]["name"] == "velero-repo-credentials"
    )
    assert secret.values["stringData"] == {"repository-password": pinned}
    assert secret.secret("stringData")


def test_a_short_pinned_repository_password_is_refused():
    message = config_error(cli_config("dev", {"veleroRepositoryPassword": "short"}), secret_keys=(PASSWORD_KEY,))
    assert "veleroRepositoryPassword = '<secret>': expected at least 16 characters" in message


def test_schedule_summary_is_exported(dev):
    summary = {entry["name"]: entry for entry in dev.outputs["schedules"]}
    assert len(summary) == 12
    assert summary["configuration"] == {
        "name": "configuration",
        "cron": "0 4 * * 0",
        "ttl": "4320h",
        "retentionDays": 180.0,
        "paused": False,
        "scope": "namespace brrtrouter-dev; resources configmaps, secrets",
    }
    assert summary["pre-upgrade"]["paused"] is True


def test_the_location_and_schedules_wait_for_veleros_crds_not_for_its_pods(dev):
    chart = dev.one("kubernetes:helm.sh/v4:Chart").urn
    needed = {r.urn for r in dev.registrations if r.type in (
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "kubernetes:core/v1:Secret")}
    needed.add(dev.one("kubernetes:core/v1:NamespacePatch", "velero-namespace").urn)
    waiting = [dev.one("brrtrouter:backup:BackupStorageLocation"), *dev.of_type("brrtrouter:backup:BackupSchedule")]
    for component in waiting:
        assert needed <= set(component.dependencies), component.name
        assert chart not in component.dependencies, component.name
    # The location also waits for its bucket and user.
    assert dev.one("command:local:Command", "minio-velero-access").urn in waiting[0].dependencies


def test_up_ends_when_velero_finds_the_location_available(dev):
    annotations = dev.one("kubernetes:velero.io/v1:BackupStorageLocation").values["metadata"]["annotations"]
    assert annotations == {"pulumi.com/waitFor": "jsonpath={.status.phase}=Available", "pulumi.com/timeoutSeconds": "300"}


def test_a_zero_location_timeout_does_not_wait():
    from .stacks import run_stack

    location = run_stack("dev", locationAvailableTimeout="0").one("kubernetes:velero.io/v1:BackupStorageLocation")
    assert "annotations" not in location.values["metadata"]


def test_the_dev_location_is_checked_every_10_seconds(dev):
    """MinIO runs beside the cluster: an outage shows within seconds, not a minute (a production
    stack keeps Velero's 1m: tests/test_stack_production.py)."""
    assert dev.one("kubernetes:velero.io/v1:BackupStorageLocation").values["spec"]["validationFrequency"] == "10s"
