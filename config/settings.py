"""Typed settings, parsed and validated once, before any resource is registered.

The Pulumi CLI hands the program its configuration as strings (arrays as JSON), with the
defaults declared in Pulumi.yaml already applied. `load_settings` turns that map into frozen
dataclasses, or raises one ConfigError that lists every problem, naming key, value and what
was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from . import values
from .catalogue import Service, load_catalogue
from .problems import Problems
from .values import PortMapping

# Every key the program reads, with the type Pulumi.yaml declares for it (a test keeps the two
# in step). The defaults are in Pulumi.yaml only.
KEYS: Mapping[str, str] = {
    "namePrefix": "string",
    "catalogue": "string",
    "kindClusterName": "string",
    "kindNodeImage": "string",
    "kindApiServerPort": "integer",
    "kindPortMappings": "array",
    "minioImage": "string",
    "minioListenAddress": "string",
    "minioApiPort": "integer",
    "minioConsolePort": "integer",
    "minioBucket": "string",
    "minioRegion": "string",
    "minioVeleroUser": "string",
}

# Where each data volume appears inside the KIND node; the local PVs point here.
NODE_MOUNT_ROOT = "/mnt"


@dataclass(frozen=True)
class DataVolume:
    """A Docker volume that holds one service's data and is mounted into the KIND node."""

    service: str
    docker_name: str
    size: str
    node_path: str


@dataclass(frozen=True)
class KindSettings:
    cluster_name: str
    node_image: str
    api_server_port: int
    port_mappings: tuple[PortMapping, ...]
    network_name: str


@dataclass(frozen=True)
class MinioSettings:
    image: str
    container_name: str
    data_volume_name: str
    listen_address: str
    api_port: int
    console_port: int
    bucket: str
    region: str
    velero_user: str


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    name_prefix: str
    services: tuple[Service, ...]
    data_volumes: tuple[DataVolume, ...]
    kind: KindSettings
    minio: MinioSettings

    @property
    def labels(self) -> dict[str, str]:
        """Labels every Docker object of the stack carries, to find and audit them."""
        return {
            "app.kubernetes.io/part-of": self.name_prefix,
            "app.kubernetes.io/managed-by": "pulumi",
            "pulumi.com/project": self.project,
            "pulumi.com/stack": self.stack,
        }


class _Reader:
    """Reads the project's keys from the CLI's string map, recording problems."""

    def __init__(self, project: str, config: Mapping[str, str], problems: Problems) -> None:
        self.project = project
        self.problems = problems
        prefix = f"{project}:"
        self.raw = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
        for unknown in sorted(set(self.raw) - set(KEYS)):
            problems.unknown(self.key(unknown), self.raw[unknown], list(KEYS))

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"

    def get(self, name: str) -> Optional[Any]:
        """The value of a declared key, decoded by its declared type, or None after a problem."""
        if name not in self.raw:
            self.problems.add(
                self.key(name), None, "a value (Pulumi.yaml declares its default; run through the Pulumi CLI)"
            )
            return None
        raw = self.raw[name]
        if KEYS[name] != "array":
            return raw
        try:
            decoded = json.loads(raw)
        except (TypeError, ValueError):
            decoded = None
        if isinstance(decoded, list):
            return decoded
        self.problems.add(self.key(name), raw, "a list of strings")
        return None


def load_settings(config: Mapping[str, str], *, project: str, stack: str, project_dir: Path) -> Settings:
    """Parse and check the whole configuration; raise ConfigError listing every problem."""
    problems = Problems()
    read = _Reader(project, config, problems)
    key = read.key

    prefix = values.dns_label(problems, key("namePrefix"), read.get("namePrefix"))
    catalogue_path = read.get("catalogue")
    services = load_catalogue(problems, key("catalogue"), project_dir / catalogue_path) if catalogue_path else ()

    mappings = tuple(
        mapping
        for entry in (read.get("kindPortMappings") or [])
        if (mapping := values.port_mapping(problems, key("kindPortMappings"), entry)) is not None
    )
    kind_fields = dict(
        cluster_name=values.dns_label(problems, key("kindClusterName"), read.get("kindClusterName")),
        node_image=values.image_reference(problems, key("kindNodeImage"), read.get("kindNodeImage")),
        api_server_port=values.port(problems, key("kindApiServerPort"), read.get("kindApiServerPort")),
    )
    minio_fields = dict(
        image=values.image_reference(problems, key("minioImage"), read.get("minioImage")),
        listen_address=values.ipv4_address(problems, key("minioListenAddress"), read.get("minioListenAddress")),
        api_port=values.port(problems, key("minioApiPort"), read.get("minioApiPort")),
        console_port=values.port(problems, key("minioConsolePort"), read.get("minioConsolePort")),
        bucket=values.matching(
            problems, key("minioBucket"), read.get("minioBucket"), values.BUCKET_NAME,
            "an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'",
        ),
        region=values.matching(
            problems, key("minioRegion"), read.get("minioRegion"), values.REGION,
            "a region name such as us-east-1",
        ),
        velero_user=values.matching(
            problems, key("minioVeleroUser"), read.get("minioVeleroUser"), values.ACCESS_KEY,
            "an access key of 3-128 letters, digits, '_', '.' or '-'",
        ),
    )
    _check_host_ports(problems, key, kind_fields, minio_fields, mappings)
    problems.raise_if_any()

    return Settings(
        project=project,
        stack=stack,
        name_prefix=prefix,
        services=services,
        data_volumes=tuple(
            DataVolume(
                service=service.name,
                docker_name=f"{prefix}-{service.name}-data",
                size=service.volume_size,
                node_path=f"{NODE_MOUNT_ROOT}/{service.name}-data",
            )
            for service in services
            if service.volume_size is not None
        ),
        kind=KindSettings(**kind_fields, port_mappings=mappings, network_name=f"{prefix}-kind"),
        minio=MinioSettings(
            **minio_fields, container_name=f"{prefix}-minio", data_volume_name=f"{prefix}-minio-data"
        ),
    )


def _check_host_ports(
    problems: Problems,
    key: Callable[[str], str],
    kind_fields: Mapping[str, Any],
    minio_fields: Mapping[str, Any],
    mappings: tuple[PortMapping, ...],
) -> None:
    """Two things published on one host port cannot both start."""
    claimed: dict[int, str] = {}
    candidates = [
        (key("kindApiServerPort"), kind_fields["api_server_port"]),
        (key("minioApiPort"), minio_fields["api_port"]),
        (key("minioConsolePort"), minio_fields["console_port"]),
        *((key("kindPortMappings"), mapping.host_port) for mapping in mappings),
    ]
    for owner, host_port in candidates:
        if host_port is None:
            continue
        if host_port in claimed:
            problems.add(owner, host_port, f"a host port not already used by {claimed[host_port]}")
        else:
            claimed[host_port] = owner
    container_ports: set[tuple[int, str]] = set()
    for mapping in mappings:
        if (mapping.container_port, mapping.protocol) in container_ports:
            problems.add(
                key("kindPortMappings"), mapping.container_port,
                "each node port published once (this containerPort/protocol repeats)",
            )
        container_ports.add((mapping.container_port, mapping.protocol))


def load_settings_from_pulumi() -> Settings:
    """The settings of the running stack, from the config the Pulumi CLI passed in."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_settings(
        config, project=pulumi.get_project(), stack=pulumi.get_stack(), project_dir=Path.cwd()
    )
