"""Docker objects the components share: labels as the provider wants them, and retained data volumes."""

from __future__ import annotations

from typing import Callable, Mapping, TypeVar

import pulumi
import pulumi_docker as docker

LabelArgs = TypeVar("LabelArgs")
# Set together with retain_on_delete, by data_volume() only. Policies cannot see resource options
# like retain_on_delete (Pulumi does not pass them to analyzers), so they check this label.
RETAINED_LABEL = "brrtrouter.io/retain-on-delete"


def docker_labels(label_args: Callable[..., LabelArgs], labels: Mapping[str, str]) -> list[LabelArgs]:
    """A list of label/value pairs, in a stable order."""
    return [label_args(label=key, value=value) for key, value in sorted(labels.items())]


def data_volume(resource_name: str, volume_name: str, labels: Mapping[str, str], parent: pulumi.Resource) -> docker.Volume:
    """A Docker volume that holds data: `pulumi destroy` leaves it, and its data, in place."""
    return docker.Volume(
        resource_name,
        name=volume_name,
        driver="local",
        labels=docker_labels(docker.VolumeLabelArgs, {**labels, RETAINED_LABEL: "true"}),
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=True),
    )
