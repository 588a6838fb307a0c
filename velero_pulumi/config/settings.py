"""Typed settings, parsed and validated once, before any resource is registered.

The Pulumi CLI hands the program its configuration as strings (arrays as JSON), with the
defaults declared in Pulumi.yaml already applied. `load_settings` turns that map into frozen
dataclasses, or raises one ConfigError that lists every problem, naming key, value and what
was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Optional

from . import cluster, values
from .backends import BackendSettings, read_backend
from .charts import ChartSource, read_chart_source
from .catalogue import GO_DURATION, Catalogue, go_duration_seconds, load_catalogue, parse_overrides
from .problems import Problems
from .reader import Reader, project_defaults
from .values import PortMapping
from .versions import PLUGIN_MINOR_FOR_VELERO, ImageRef, split_image

# Where each data volume appears inside the KIND node; the local PVs point here.
NODE_MOUNT_ROOT = "/mnt"
CLUSTER_MODES = ("kind", "existing")
MONITORING_MODES = ("annotations", "prometheusOperator")
RBAC_MODES = ("clusterAdmin", "restricted")

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
class ExistingClusterSettings:
    """A cluster this stack does not create: a kubeconfig from a Pulumi secret, or a context."""

    kubeconfig: Optional[str]
    context: Optional[str]


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
class NodeAgentSettings:
    """How the node agent moves volume data (file-system backup and restore)."""

    load_concurrency: int
    # pods the server backs up at once (its item block workers)
    item_block_workers: int
    # kopia's parallel file reads per volume; 0: kopia's default (the node's CPUs)
    parallel_files_upload: int
    # request and limit of each data mover pod; None: BestEffort
    data_mover_cpu: Optional[str]
    data_mover_memory: Optional[str]


@dataclass(frozen=True)
class MaintenanceSettings:
    """How often Velero deletes expired backups and maintains its kopia repositories (Go durations)."""

    garbage_collection_frequency: str
    # of repositories Velero creates from now on; one that exists keeps its spec.maintenanceFrequency
    repository_maintenance_frequency: str


@dataclass(frozen=True)
class VeleroSettings:
    namespace: str
    chart: ChartSource
    image: ImageRef
    # From a Pulumi secret, required: it opens the backups already in the bucket.
    repository_password: str
    rbac: str
    monitoring: str
    alert_grace_seconds: float
    # key, value of the label Grafana's dashboard sidecar selects ConfigMaps by
    grafana_dashboard_label: tuple[str, str]
    # How long `pulumi up` waits for the location to be Available; 0: not at all.
    location_timeout_seconds: int
    # How often Velero checks that it can reach the location (a Go duration).
    location_validation_frequency: str
    node_agent: NodeAgentSettings
    maintenance: MaintenanceSettings


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    name_prefix: str
    app_namespace: str
    storage_class_name: str
    catalogue: Catalogue
    cluster_mode: str
    data_volumes: tuple[DataVolume, ...]
    kind: Optional[KindSettings]
    existing_cluster: Optional[ExistingClusterSettings]
    backend: BackendSettings
    minio: Optional[MinioSettings]
    velero: VeleroSettings

    @property
    def labels(self) -> dict[str, str]:
        return stack_labels(self.name_prefix, self.project, self.stack)


def stack_labels(name_prefix: str, project: str, stack: str) -> dict[str, str]:
    """Labels every object of the stack carries, to find and audit them."""
    return {
        "app.kubernetes.io/part-of": name_prefix,
        "app.kubernetes.io/managed-by": "pulumi",
        "pulumi.com/project": project,
        "pulumi.com/stack": stack,
    }


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
    read = Reader(project, config, problems, secret_keys, project_defaults(project_dir))
    overrides = parse_overrides(problems, read.key("scheduleOverrides"), read.get("scheduleOverrides") or [])
    catalogue_path = read.get("catalogue")
    catalogue = (
        load_catalogue(
            problems, read.key("catalogue"), project_dir / catalogue_path, overrides, read.key("scheduleOverrides")
        )
        if catalogue_path
        else Catalogue((), (), ())
    )
    settings = read_settings(read, project=project, stack=stack, catalogue=catalogue, project_dir=project_dir)
    # Only a valid configuration is worth asking the cluster about.
    _check_existing_cluster(settings, read)
    return settings


def read_settings(
    read: Reader,
    *,
    project: str,
    stack: str,
    catalogue: Catalogue,
    project_dir: Optional[Path],
    cluster_required: bool = True,
) -> Settings:
    """Every setting but the catalogue, from `read`; raise ConfigError listing every problem
    (those `read` already holds included). cluster_required=False: an existing cluster may also
    come from the resource options' provider (the package's Backups component)."""
    problems = read.problems
    prefix = read.check("namePrefix", values.dns_label)
    cluster_mode = read.choice("clusterMode", CLUSTER_MODES)
    velero = read_velero(read, project_dir)
    backend = read_backend(read, cluster_mode, velero.image)
    kind = _kind(read) if cluster_mode == "kind" else None
    existing = _existing_cluster(read, cluster_required) if cluster_mode == "existing" else None
    if cluster_mode != "existing":
        for name in ("kubeconfig", "kubeContext"):
            if read.optional(name) is not None:
                problems.add(read.key(name), "<set>", "no value: it applies to clusterMode existing only")
    minio = _minio(read, prefix) if backend is not None and backend.kind == "minio" else None
    _check_host_ports(problems, read.key, kind, minio)
    namespaces = dict(
        app_namespace=read.check("appNamespace", values.dns_label),
        storage_class_name=read.check("storageClassName", values.dns_label),
    )
    problems.raise_if_any()

    return Settings(
        project=project,
        stack=stack,
        name_prefix=prefix,
        **namespaces,
        catalogue=catalogue,
        cluster_mode=cluster_mode,
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
            if service.volume_size is not None and cluster_mode == "kind"
        ),
        kind=KindSettings(**kind, network_name=f"{prefix}-kind") if kind else None,
        existing_cluster=existing,
        backend=backend,
        minio=MinioSettings(**minio, container_name=f"{prefix}-minio", data_volume_name=f"{prefix}-minio-data")
        if minio
        else None,
        velero=velero,
    )


def _check_existing_cluster(settings: Settings, read: Reader) -> None:
    """The APIs the stack relies on are served by the existing cluster, before anything is registered."""
    existing = settings.existing_cluster
    required = cluster.required_apis(settings.velero.monitoring, read.key("monitoring"))
    if existing is None or not required:
        return
    problems = Problems()
    try:
        served = cluster.discover_apis(existing.kubeconfig, existing.context, sorted({r.group_version for r in required}))
    except cluster.ClusterUnreachable as error:
        key, value = ("kubeconfig", "<secret>") if existing.kubeconfig else ("kubeContext", existing.context)
        problems.add(read.key(key), value, f"a cluster the program can reach to check what it serves ({error})")
        problems.raise_if_any()
    missing = [api for api in required if api.kind not in served.get(api.group_version, set())]
    if missing:
        first = missing[0]
        kinds = " and ".join(f"{api.kind} ({api.group_version})" for api in missing)
        problems.add(first.key, first.value, f"a cluster that serves {kinds}, which this one does not: {first.remedy}")
    problems.raise_if_any()


def _kind(read: Reader) -> dict[str, Any]:
    return dict(
        cluster_name=read.check("kindClusterName", values.dns_label),
        node_image=read.check("kindNodeImage", values.image_reference),
        api_server_port=read.check("kindApiServerPort", values.port),
        port_mappings=tuple(
            mapping
            for entry in (read.get("kindPortMappings") or [])
            if (mapping := values.port_mapping(read.problems, read.key("kindPortMappings"), entry)) is not None
        ),
    )


def _existing_cluster(read: Reader, required: bool) -> ExistingClusterSettings:
    kubeconfig = read.secret("kubeconfig")
    context = read.optional("kubeContext")
    if required and read.optional("kubeconfig") is None and context is None:
        read.problems.add(
            read.key("kubeContext"), "",
            "a context of your kubeconfig, or the kubeconfig itself as the secret kubeconfig (clusterMode existing)",
        )
    elif read.optional("kubeconfig") is not None and context is not None:
        read.problems.add(read.key("kubeContext"), context, "no value when kubeconfig is set (one of the two)")
    return ExistingClusterSettings(kubeconfig, context)


def _minio(read: Reader, prefix: Optional[str]) -> dict[str, Any]:
    return dict(
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


def read_velero(read: Reader, project_dir: Optional[Path], installs: bool = True) -> VeleroSettings:
    """Velero's settings. installs=False: for the package's parts that do not install Velero (a
    location, a schedule, the alerts), which read the rest of these settings the same way, but
    neither the chart (whose repository a read asks for its index) nor the password."""
    problems = read.problems
    image = read.check("veleroImage", values.image_reference)
    server = split_image(image) if image else None
    if server is not None and server.minor not in PLUGIN_MINOR_FOR_VELERO:
        problems.add(
            read.key("veleroImage"), image,
            f"a Velero image tagged vX.Y.Z of a supported release ({', '.join(sorted(PLUGIN_MINOR_FOR_VELERO))})",
        )
        server = None
    grace = read.get("alertGracePeriod")
    if grace is not None and not GO_DURATION.match(grace):
        problems.add(read.key("alertGracePeriod"), grace, "a Go duration such as 1h or 30m")
        grace = None
    return VeleroSettings(
        namespace=read.check("veleroNamespace", values.dns_label),
        chart=read_chart_source(
            problems, read.key("veleroChart"), read.get("veleroChart"),
            read.key("veleroChartVersion"), read.get("veleroChartVersion"), project_dir,
        ) if installs else None,
        image=server,
        repository_password=_repository_password(read) if installs else None,
        rbac=read.choice("veleroRbac", RBAC_MODES),
        monitoring=read.choice("monitoring", MONITORING_MODES),
        alert_grace_seconds=go_duration_seconds(grace) if grace else None,
        grafana_dashboard_label=read.check("grafanaDashboardLabel", values.label_pair),
        location_timeout_seconds=read.check(
            "locationAvailableTimeout", values.integer_between, 0, 3600, "seconds; 0 does not wait"),
        location_validation_frequency=_frequency(read, "locationValidationFrequency"),
        node_agent=NodeAgentSettings(
            load_concurrency=read.check(
                "nodeAgentLoadConcurrency", values.integer_between, 1, 64, "volumes at once per node"),
            item_block_workers=read.check(
                "itemBlockWorkerCount", values.integer_between, 1, 64, "pods backed up at once"),
            parallel_files_upload=read.check(
                "parallelFilesUpload", values.integer_between, 0, 256, "files per volume; 0 is kopia's default"),
            data_mover_cpu=read.check("dataMoverCpu", values.optional_quantity, values.CPU_QUANTITY, "500m or 2"),
            data_mover_memory=read.check(
                "dataMoverMemory", values.optional_quantity, values.BINARY_QUANTITY, "512Mi or 2Gi"),
        ),
        maintenance=MaintenanceSettings(
            garbage_collection_frequency=_frequency(read, "garbageCollectionFrequency"),
            repository_maintenance_frequency=_frequency(read, "repositoryMaintenanceFrequency"),
        ),
    )


def _frequency(read: Reader, key: str) -> Optional[str]:
    text = read.get(key)
    if text is None:
        return None
    if not isinstance(text, str) or not GO_DURATION.match(text) or go_duration_seconds(text) <= 0:
        read.problems.add(read.key(key), text, "a Go duration above 0 such as 1h or 10m")
        return None
    return text


REPOSITORY_PASSWORD_MIN_LENGTH = 16
REPOSITORY_PASSWORD_HOW = (
    'pulumi config set --secret veleroRepositoryPassword "$(openssl rand -base64 36)", once, and keep it '
    "(./scripts/up sets one for the dev stack; to reuse backups already in the bucket, set the password they were "
    "made with: docs/design.md, 'Keeping the repository password')"
)


def _repository_password(read: Reader) -> Optional[str]:
    """Required, as a secret: a password made up here would not open the backups in the bucket."""
    password = read.secret("veleroRepositoryPassword", min_length=REPOSITORY_PASSWORD_MIN_LENGTH)
    if read.optional("veleroRepositoryPassword") is None:
        read.problems.add(read.key("veleroRepositoryPassword"), "",
                          f"the password of Velero's kopia repository, as a secret: {REPOSITORY_PASSWORD_HOW}")
    return password


def _check_host_ports(
    problems: Problems,
    key: Callable[[str], str],
    kind: Optional[Mapping[str, Any]],
    minio: Optional[Mapping[str, Any]],
) -> None:
    """Two things published on one host port cannot both start."""
    mappings = kind["port_mappings"] if kind else ()
    candidates = [
        *([(key("kindApiServerPort"), kind["api_server_port"])] if kind else []),
        *([(key("minioApiPort"), minio["api_port"]), (key("minioConsolePort"), minio["console_port"])] if minio else []),
        *((key("kindPortMappings"), mapping.host_port) for mapping in mappings),
    ]
    claimed: dict[int, str] = {}
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
