"""Parsing the configuration into typed settings (no Pulumi runtime involved)."""

from __future__ import annotations

import dataclasses

import pytest

from velero_pulumi.config import ConfigError, PortMapping, load_settings

from .cli_config import cli_config
from .harness import PROJECT, PROJECT_DIR


def settings_for(stack: str = "dev", **overrides):
    config = cli_config(stack, overrides)
    return load_settings(config, project=PROJECT, stack=stack, project_dir=PROJECT_DIR, secret_keys=config.secret_keys)


def test_dev_stack_has_the_seed_data_volumes_with_their_budgets():
    settings = settings_for()
    assert [(v.service, v.docker_name, v.size, v.node_path) for v in settings.data_volumes] == [
        ("prometheus", "brrtrouter-prometheus-data", "5Gi", "/mnt/prometheus-data"),
        ("loki", "brrtrouter-loki-data", "5Gi", "/mnt/loki-data"),
        ("grafana", "brrtrouter-grafana-data", "1Gi", "/mnt/grafana-data"),
        ("jaeger", "brrtrouter-jaeger-data", "2Gi", "/mnt/jaeger-data"),
    ]


def test_dev_stack_takes_minio_defaults_from_pulumi_yaml():
    minio = settings_for().minio
    assert (minio.api_port, minio.console_port, minio.bucket, minio.region) == (9000, 9001, "velero", "us-east-1")
    # Docker Hub no longer serves minio/minio: the default must come from quay.io, pinned.
    assert minio.image.startswith("quay.io/minio/minio:RELEASE.")
    assert (minio.container_name, minio.data_volume_name) == ("brrtrouter-minio", "brrtrouter-minio-data")


def test_dev_stack_port_mappings_parse_with_loopback_default():
    kind = settings_for().kind
    assert kind.cluster_name == "brrtrouter-dev"
    assert kind.port_mappings == (
        PortMapping("127.0.0.1", 8080, 30080, "TCP"),
        PortMapping("127.0.0.1", 3000, 30300, "TCP"),
    )
    assert "@sha256:" in kind.node_image


def test_port_mapping_takes_address_and_protocol():
    kind = settings_for(kindPortMappings=["0.0.0.0:5353:30053/udp"]).kind
    assert kind.port_mappings == (PortMapping("0.0.0.0", 5353, 30053, "UDP"),)


def test_name_prefix_renames_every_docker_object():
    settings = settings_for(namePrefix="team-a")
    assert settings.data_volumes[0].docker_name == "team-a-prometheus-data"
    assert settings.minio.container_name == "team-a-minio"
    assert settings.kind.network_name == "team-a-kind"
    assert settings.labels["app.kubernetes.io/part-of"] == "team-a"


def test_settings_are_frozen():
    settings = settings_for()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.minio.api_port = 1  # type: ignore[misc]


def test_every_problem_is_reported_in_one_error():
    with pytest.raises(ConfigError) as raised:
        settings_for(minioApiPort=0, kindClusterName="", minioImage="minio/minio")
    problems = raised.value.problems
    assert len(problems) == 3
    assert any(p.startswith("brrtrouter-backup:minioApiPort = '0'") for p in problems)
    assert any(p.startswith("brrtrouter-backup:kindClusterName = ''") for p in problems)
    assert any(p.startswith("brrtrouter-backup:minioImage = 'minio/minio'") for p in problems)


def test_a_missing_key_names_pulumi_yaml():
    config = cli_config("dev")
    del config["brrtrouter-backup:minioBucket"]
    with pytest.raises(ConfigError, match=r"minioBucket = None: expected a value \(Pulumi.yaml declares"):
        load_settings(config, project=PROJECT, stack="dev", project_dir=PROJECT_DIR)


def test_config_of_other_namespaces_is_left_to_its_providers():
    dev = cli_config("dev")
    config = {**dev, "docker:host": "unix:///var/run/docker.sock"}
    settings = load_settings(config, project=PROJECT, stack="dev", project_dir=PROJECT_DIR, secret_keys=dev.secret_keys)
    assert settings.minio.api_port == 9000
