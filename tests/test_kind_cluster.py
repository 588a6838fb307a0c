"""KindCluster: the cluster config, the kind command's lifecycle, the network and the provider."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
import yaml

from velero_pulumi.components import KindCluster, KindClusterArgs, NodeMount
from velero_pulumi.components.kind_cluster import render_kind_config
from velero_pulumi.config import PortMapping

from .harness import FAKE_KUBECONFIG, is_secret_output, resolve, run

ARGS = KindClusterArgs(
    cluster_name="brrtrouter-dev",
    node_image="kindest/node:v1.34.0@sha256:" + "a" * 64,
    api_server_port=6443,
    network_name="brrtrouter-kind",
    mounts=(
        NodeMount("/var/lib/docker/volumes/brrtrouter-loki-data/_data", "/mnt/loki-data"),
        NodeMount("/var/lib/docker/volumes/brrtrouter-jaeger-data/_data", "/mnt/jaeger-data"),
    ),
    port_mappings=(PortMapping("127.0.0.1", 8080, 30080, "TCP"),),
)
COMMAND = "command:local:Command"


def build(args: KindClusterArgs = ARGS):
    holder = {}

    def program():
        holder["kind"] = KindCluster("kind", args)

    return run(program), holder["kind"]


@pytest.fixture
def built():
    return build()


def test_config_mounts_each_volume_into_the_single_control_plane_node():
    document = yaml.safe_load(render_kind_config(ARGS, ["/v/loki", "/v/jaeger"]))
    assert document["kind"] == "Cluster" and document["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert document["name"] == "brrtrouter-dev"
    [node] = document["nodes"]
    assert node["role"] == "control-plane"
    assert node["image"] == ARGS.node_image
    assert node["extraMounts"] == [
        {"hostPath": "/v/loki", "containerPath": "/mnt/loki-data"},
        {"hostPath": "/v/jaeger", "containerPath": "/mnt/jaeger-data"},
    ]


def test_config_publishes_ports_and_pins_the_api_server():
    document = yaml.safe_load(render_kind_config(ARGS, ["/a", "/b"]))
    assert document["networking"] == {"apiServerAddress": "127.0.0.1", "apiServerPort": 6443}
    assert document["nodes"][0]["extraPortMappings"] == [
        {"containerPort": 30080, "hostPort": 8080, "listenAddress": "127.0.0.1", "protocol": "TCP"}
    ]


def test_kind_reads_the_config_on_stdin_with_the_volume_mountpoints(built):
    result, _ = built
    cluster = result.one(COMMAND).values
    assert "kind create cluster --name brrtrouter-dev --config - " in cluster["create"]
    stdin = yaml.safe_load(cluster["stdin"])
    assert [m["hostPath"] for m in stdin["nodes"][0]["extraMounts"]] == [m.host_path for m in ARGS.mounts]


def test_changing_the_config_replaces_the_cluster_deleting_first(built):
    result, _ = built
    cluster = result.one(COMMAND)
    expected = hashlib.sha256((cluster.values["stdin"] + "\nbrrtrouter-kind").encode()).hexdigest()
    assert cluster.values["triggers"] == [expected]
    assert "triggers" in cluster.replace_on_changes
    assert cluster.delete_before_replace
    assert cluster.values["delete"] == "kind delete cluster --name brrtrouter-dev"


def test_the_hash_follows_every_part_of_the_config():
    def trigger(args):
        return build(args)[0].one(COMMAND).values["triggers"]

    base = trigger(ARGS)
    assert trigger(dataclasses.replace(ARGS, node_image="kindest/node:v1.33.1@sha256:" + "b" * 64)) != base
    assert trigger(dataclasses.replace(ARGS, port_mappings=())) != base
    assert trigger(dataclasses.replace(ARGS, mounts=ARGS.mounts[:1])) != base
    assert trigger(dataclasses.replace(ARGS, network_name="other-net")) != base
    assert trigger(ARGS) == base


def test_kind_joins_the_network_the_component_creates(built):
    result, _ = built
    network = result.one("docker:index/network:Network")
    assert network.values["name"] == "brrtrouter-kind"
    cluster = result.one(COMMAND)
    assert cluster.values["environment"] == {"KIND_EXPERIMENTAL_DOCKER_NETWORK": "brrtrouter-kind"}
    assert network.urn in cluster.dependencies


def test_kubeconfig_is_secret_and_never_logged(built):
    result, component = built
    cluster = result.one(COMMAND)
    assert cluster.additional_secret_outputs == ["stdout"]
    assert cluster.values["logging"] == "stderr"
    assert "kind get kubeconfig --name brrtrouter-dev" in cluster.values["create"]
    # No --wait: the API server answers when kind returns; pods wait for the node themselves.
    assert "--config - >&2" in cluster.values["create"] and "--wait" not in cluster.values["create"]
    assert resolve(component.kubeconfig) == FAKE_KUBECONFIG
    assert is_secret_output(component.kubeconfig)


def test_provider_is_built_from_the_kubeconfig(built):
    result, component = built
    provider = result.one("pulumi:providers:kubernetes")
    assert provider.secret("kubeconfig")
    assert provider.values["kubeconfig"] == FAKE_KUBECONFIG
    assert provider.values["deleteUnreachable"] == "true"
    # What a killed up made but could not record is adopted by the next (tests/real faults, 5a).
    assert provider.values["upsertExistingObjects"] == "true"
    assert provider.values["enablePatchForce"] == "true"
    assert provider.parent == result.one("brrtrouter:backup:KindCluster").urn
    assert component.context_name == "kind-brrtrouter-dev"


def test_a_name_with_shell_characters_is_quoted():
    result, _ = build(dataclasses.replace(ARGS, cluster_name="dev; rm -rf /"))
    assert result.one(COMMAND).values["delete"] == "kind delete cluster --name 'dev; rm -rf /'"
