"""DataVolumes: the Docker volumes that hold the services' data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_docker as docker

from ..config import DataVolume

from .docker_objects import data_volume


@dataclass(frozen=True)
class DataVolumesArgs:
    volumes: tuple[DataVolume, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


class DataVolumes(pulumi.ComponentResource):
    """One Docker volume per service with data.

    The volumes outlive `pulumi destroy` (retain_on_delete) and the KIND cluster: they are
    mounted into the node, so a recreated cluster finds its data again.
    """

    volumes: dict[str, docker.Volume]
    mountpoints: dict[str, pulumi.Output[str]]
    names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DataVolumesArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:DataVolumes", name, None, opts)
        self.volumes = {
            volume.service: data_volume(
                f"{name}-{volume.service}",
                volume.docker_name,
                {
                    **args.labels,
                    "app.kubernetes.io/name": volume.service,
                    "brrtrouter.io/size-budget": volume.size,
                    "brrtrouter.io/node-path": volume.node_path,
                },
                parent=self,
            )
            for volume in args.volumes
        }
        self.mountpoints = {service: volume.mountpoint for service, volume in self.volumes.items()}
        self.names = {service: volume.name for service, volume in self.volumes.items()}
        self.register_outputs({"names": self.names, "mountpoints": self.mountpoints})
