"""KindCluster: the dev cluster, its Docker network, and a Kubernetes provider for it."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_kubernetes as k8s
import yaml

from ..config import PortMapping

from .docker_objects import docker_labels


@dataclass(frozen=True)
class NodeMount:
    """A host directory bind-mounted into the KIND node."""

    host_path: pulumi.Input[str]
    container_path: str


@dataclass(frozen=True)
class KindClusterArgs:
    cluster_name: str
    node_image: str
    api_server_port: int
    network_name: str
    mounts: tuple[NodeMount, ...] = ()
    port_mappings: tuple[PortMapping, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


def render_kind_config(args: KindClusterArgs, host_paths: list[str]) -> str:
    """The `kind create cluster --config` document, with the mounts' resolved host paths."""
    node: dict = {"role": "control-plane", "image": args.node_image}
    if args.mounts:
        node["extraMounts"] = [
            {"hostPath": host_path, "containerPath": mount.container_path}
            for mount, host_path in zip(args.mounts, host_paths)
        ]
    if args.port_mappings:
        node["extraPortMappings"] = [
            {
                "containerPort": mapping.container_port,
                "hostPort": mapping.host_port,
                "listenAddress": mapping.listen_address,
                "protocol": mapping.protocol,
            }
            for mapping in args.port_mappings
        ]
    document = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": args.cluster_name,
        "networking": {"apiServerAddress": "127.0.0.1", "apiServerPort": args.api_server_port},
        "nodes": [node],
    }
    return yaml.safe_dump(document, sort_keys=False)


def cluster_network(
    resource_name: str, network_name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> docker.Network:
    """The Docker network the KIND node and MinIO share (MinIO is reached there by its name)."""
    return docker.Network(
        resource_name,
        name=network_name,
        driver="bridge",
        labels=docker_labels(docker.NetworkLabelArgs, labels),
        opts=opts,
    )


class KindCluster(pulumi.ComponentResource):
    """A one-node KIND cluster on a Docker network this component owns.

    kind joins the network named in KIND_EXPERIMENTAL_DOCKER_NETWORK instead of its own
    `kind` network, so other containers (MinIO) can be attached to it before the cluster
    exists and are reachable from the node by container name.
    """

    cluster_name: str
    context_name: str
    network_name: pulumi.Output[str]
    cluster_config: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: KindClusterArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:KindCluster", name, None, opts)
        network = cluster_network(f"{name}-network", args.network_name, args.labels, pulumi.ResourceOptions(parent=self))
        self.cluster_config = pulumi.Output.all(*(mount.host_path for mount in args.mounts)).apply(
            lambda host_paths: render_kind_config(args, list(host_paths))
        )
        config_hash = pulumi.Output.all(self.cluster_config, network.name).apply(
            lambda parts: hashlib.sha256("\n".join(parts).encode()).hexdigest()
        )
        quoted_name = shlex.quote(args.cluster_name)
        cluster = command.local.Command(
            f"{name}-cluster",
            create=(
                "set -e\n"
                # Progress goes to stderr; stdout carries only the kubeconfig. No --wait: the API
                # server answers when kind returns, and whatever needs the node Ready (pods) waits
                # for it anyway.
                f"kind create cluster --name {quoted_name} --config - >&2\n"
                f"kind get kubeconfig --name {quoted_name}\n"
            ),
            delete=f"kind delete cluster --name {quoted_name}",
            stdin=self.cluster_config,
            environment={"KIND_EXPERIMENTAL_DOCKER_NETWORK": network.name},
            triggers=[config_hash],
            # Never print the kubeconfig (stdout) into the update log.
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[network],
                additional_secret_outputs=["stdout"],
                # A changed cluster config means a new cluster: `create` cannot update one.
                replace_on_changes=["triggers"],
                delete_before_replace=True,
            ),
        )
        self.cluster_name = args.cluster_name
        self.context_name = f"kind-{args.cluster_name}"
        self.network_name = network.name
        self.kubeconfig = pulumi.Output.secret(cluster.stdout)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # When the cluster is gone, drop its objects from the state instead of failing.
            delete_unreachable=True,
            # The cluster is this stack's own: an object of ours in it that the state lacks was made
            # by an up killed before it could record it (a pending create). The next up adopts it
            # instead of failing with AlreadyExists.
            upsert_existing_objects=True,
            # Adopting such an object, a field its killed writer (another field manager) owns and we
            # set too is a server-side apply conflict; here ours wins, as every field is ours to set.
            enable_patch_force=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "contextName": self.context_name,
                "networkName": self.network_name,
                "kubeconfig": self.kubeconfig,
            }
        )
