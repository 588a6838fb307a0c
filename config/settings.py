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
from typing import Any, Callable, Collection, Mapping, Optional

from . import values
from .catalogue import GO_DURATION, Catalogue, go_duration_seconds, load_catalogue
from .problems import Problems
from .values import PortMapping
from .versions import AWS_PLUGIN_BAD_ON_S3_COMPATIBLE, PLUGIN_MINOR_FOR_VELERO, ImageRef, split_image

# Every key the program reads, with the type Pulumi.yaml declares for it (a test keeps the two
# in step). The defaults are in Pulumi.yaml only.
KEYS: Mapping[str, str] = {
    "namePrefix": "string",
    "catalogue": "string",
    "appNamespace": "string",
    "storageClassName": "string",
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
    "veleroNamespace": "string",
    "veleroChartRepository": "string",
    "veleroChartVersion": "string",
    "veleroImage": "string",
    "veleroAwsPluginImage": "string",
    "veleroRepositoryPassword": "string",
    "monitoring": "string",
    "alertGracePeriod": "string",
}

# Where each data volume appears inside the KIND node; the local PVs point here.
NODE_MOUNT_ROOT = "/mnt"
MONITORING_MODES = ("annotations", "prometheusOperator")


@dataclass(frozen=True)
class DataVolume:
    """A Docker volume that holds one service's data, mounted into the KIND node, claimed by a PVC."""

    service: str
    docker_name: str
    size: str
    node_path: str
    claim_name: str
    component: Optional[str]


@dataclass(frozen=True)
class KindSettings:
    cluster_name: str
    node_image: str
    api_server_port: int
    port_mappings: tuple[PortMapping, ...]
    network_name: str

    @property
    def node_name(self) -> str:
        """The Kubernetes name of the single node kind creates."""
        return f"{self.cluster_name}-control-plane"


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
class VeleroSettings:
    namespace: str
    chart_repository: str
    chart_version: str
    image: ImageRef
    aws_plugin_image: str
    # None: generate one (pulumi-random). A value comes from a Pulumi secret.
    repository_password: Optional[str]
    monitoring: str
    alert_grace_seconds: float


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    name_prefix: str
    app_namespace: str
    storage_class_name: str
    catalogue: Catalogue
    data_volumes: tuple[DataVolume, ...]
    kind: KindSettings
    minio: MinioSettings
    velero: VeleroSettings

    @property
    def labels(self) -> dict[str, str]:
        """Labels every object of the stack carries, to find and audit them."""
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

    def check(self, name: str, check: Callable[..., Any], *args: Any) -> Any:
        return check(self.problems, self.key(name), self.get(name), *args)


def load_settings(
    config: Mapping[str, str],
    *,
    project: str,
    stack: str,
    project_dir: Path,
    secret_keys: Collection[str] = (),
) -> Settings:
    """Parse and check the whole configuration; raise ConfigError listing every problem."""
    problems = Problems()
    read = _Reader(project, config, problems)
    key = read.key

    prefix = read.check("namePrefix", values.dns_label)
    catalogue_path = read.get("catalogue")
    catalogue = (
        load_catalogue(problems, key("catalogue"), project_dir / catalogue_path)
        if catalogue_path
        else Catalogue((), (), ())
    )
    mappings = tuple(
        mapping
        for entry in (read.get("kindPortMappings") or [])
        if (mapping := values.port_mapping(problems, key("kindPortMappings"), entry)) is not None
    )
    kind_fields = dict(
        cluster_name=read.check("kindClusterName", values.dns_label),
        node_image=read.check("kindNodeImage", values.image_reference),
        api_server_port=read.check("kindApiServerPort", values.port),
    )
    minio_fields = dict(
        image=read.check("minioImage", values.image_reference),
        listen_address=read.check("minioListenAddress", values.ipv4_address),
        api_port=read.check("minioApiPort", values.port),
        console_port=read.check("minioConsolePort", values.port),
        bucket=read.check(
            "minioBucket", values.matching, values.BUCKET_NAME, "an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'"
        ),
        region=read.check("minioRegion", values.matching, values.REGION, "a region name such as us-east-1"),
        velero_user=read.check(
            "minioVeleroUser", values.matching, values.ACCESS_KEY, "an access key of 3-128 letters, digits, '_', '.' or '-'"
        ),
    )
    velero = _velero_settings(read, secret_keys)
    namespaces = dict(
        app_namespace=read.check("appNamespace", values.dns_label),
        storage_class_name=read.check("storageClassName", values.dns_label),
    )
    _check_host_ports(problems, key, kind_fields, minio_fields, mappings)
    problems.raise_if_any()

    return Settings(
        project=project,
        stack=stack,
        name_prefix=prefix,
        **namespaces,
        catalogue=catalogue,
        data_volumes=tuple(
            DataVolume(
                service=service.name,
                docker_name=f"{prefix}-{service.name}-data",
                size=service.volume_size,
                node_path=f"{NODE_MOUNT_ROOT}/{service.name}-data",
                claim_name=f"{service.name}-storage",
                component=service.component,
            )
            for service in catalogue.services
            if service.volume_size is not None
        ),
        kind=KindSettings(**kind_fields, port_mappings=mappings, network_name=f"{prefix}-kind"),
        minio=MinioSettings(
            **minio_fields, container_name=f"{prefix}-minio", data_volume_name=f"{prefix}-minio-data"
        ),
        velero=velero,
    )


def _velero_settings(read: _Reader, secret_keys: Collection[str]) -> Optional[VeleroSettings]:
    problems = read.problems
    image = read.check("veleroImage", values.image_reference)
    plugin = read.check("veleroAwsPluginImage", values.image_reference)
    server = split_image(image) if image else None
    if server is not None and server.minor not in PLUGIN_MINOR_FOR_VELERO:
        problems.add(
            read.key("veleroImage"), image,
            f"a Velero image tagged vX.Y.Z of a supported release ({', '.join(sorted(PLUGIN_MINOR_FOR_VELERO))})",
        )
        server = None
    if plugin and server is not None:
        plugin_ref = split_image(plugin)
        wanted = PLUGIN_MINOR_FOR_VELERO[server.minor]
        if plugin_ref.minor != wanted:
            problems.add(
                read.key("veleroAwsPluginImage"), plugin,
                f"the plugin release v{wanted}.x that matches Velero {server.version} (Velero's compatibility matrix)",
            )
        elif plugin_ref.version in AWS_PLUGIN_BAD_ON_S3_COMPATIBLE:
            problems.add(
                read.key("veleroAwsPluginImage"), plugin,
                f"a v{wanted}.x release other than {', '.join(sorted(AWS_PLUGIN_BAD_ON_S3_COMPATIBLE))}, which "
                "mishandle checksumAlgorithm on S3-compatible stores such as MinIO",
            )
    password = read.get("veleroRepositoryPassword")
    if password and read.key("veleroRepositoryPassword") not in secret_keys:
        problems.add(
            read.key("veleroRepositoryPassword"), "<plain text>",
            "a secret: pulumi config set --secret veleroRepositoryPassword ... (or leave it empty to generate one)",
        )
    elif password is not None and password != "" and len(password) < 16:
        problems.add(read.key("veleroRepositoryPassword"), "<secret>", "at least 16 characters")
    monitoring = read.get("monitoring")
    if monitoring is not None and monitoring not in MONITORING_MODES:
        problems.add(read.key("monitoring"), monitoring, " or ".join(MONITORING_MODES))
    grace = read.get("alertGracePeriod")
    grace_seconds = None
    if grace is not None:
        if GO_DURATION.match(grace):
            grace_seconds = go_duration_seconds(grace)
        else:
            problems.add(read.key("alertGracePeriod"), grace, "a Go duration such as 1h or 30m")
    chart_version = read.check(
        "veleroChartVersion", values.matching, values.SEMVER, "a chart version such as 12.1.0"
    )
    repository = read.check(
        "veleroChartRepository", values.matching, values.HTTPS_URL, "an https:// URL of a Helm repository"
    )
    return VeleroSettings(
        namespace=read.check("veleroNamespace", values.dns_label),
        chart_repository=repository,
        chart_version=chart_version,
        image=server,
        aws_plugin_image=plugin,
        repository_password=password or None,
        monitoring=monitoring,
        alert_grace_seconds=grace_seconds,
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
    secret_keys = {key for key in config if runtime_config.is_config_secret(key)}
    secret_keys.update(runtime_config.get_config_secret_keys_env())
    return load_settings(
        config,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        project_dir=Path.cwd(),
        secret_keys=secret_keys,
    )
