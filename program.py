"""The environment, from settings to components to stack outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from velero_pulumi import (
    ApplicationNamespace,
    ApplicationNamespaceArgs,
    BackupSchedule,
    BackupScheduleArgs,
    BackupStorageLocation,
    BackupStorageLocationArgs,
    DataVolumes,
    DataVolumesArgs,
    KindCluster,
    KindClusterArgs,
    MinioBackend,
    MinioServer,
    MinioServerArgs,
    NodeMount,
    StorageBackend,
    VeleroAlerts,
    VeleroAlertsArgs,
    VeleroDashboard,
    VeleroDashboardArgs,
    VeleroInstall,
    VeleroInstallArgs,
    WorkloadStorage,
    WorkloadStorageArgs,
    cloud_backend,
)
from velero_pulumi.config import Settings
from velero_pulumi.config.plan import backup_plan


@dataclass
class Cluster:
    """What the backups need from the cluster part of a stack."""

    provider: pulumi.ProviderResource
    app_namespace: ApplicationNamespace
    outputs: dict[str, Any] = field(default_factory=dict)
    # Set when the stack makes its own storage (MinIO); else the cloud backend of the settings.
    backend: Optional[StorageBackend] = None
    location_after: list[pulumi.Resource] = field(default_factory=list)
    # The provider of the chart's objects, where it differs (an existing cluster: see below).
    chart_provider: Optional[pulumi.ProviderResource] = None


def build_environment(settings: Settings) -> dict[str, Any]:
    """The stack: its cluster (KIND and its data, or an existing one), its backend, and the backups.

    Returns the stack outputs.
    """
    if settings.cluster_mode == "kind":
        cluster = _kind_environment(settings)
    else:
        provider = _existing_cluster_provider(settings, "cluster")
        # A destroy keeps the chart's CRDs (VeleroInstall): a later install adopts them instead of
        # failing with AlreadyExists. Only the chart's objects go through this provider.
        chart_provider = _existing_cluster_provider(settings, "cluster-chart", upsert_existing_objects=True)
        cluster = Cluster(provider, _application_namespace(settings, provider), chart_provider=chart_provider)
    backups = build_backups(
        settings,
        cluster.backend or cloud_backend(settings.backend),
        provider=cluster.provider,
        chart_provider=cluster.chart_provider,
        app_namespace=cluster.app_namespace,
        location_after=cluster.location_after,
    )
    return {**cluster.outputs, "storageBackend": settings.backend.kind, **backups}


def _existing_cluster_provider(settings: Settings, name: str, **options: Any) -> k8s.Provider:
    existing = settings.existing_cluster
    if existing.kubeconfig:
        return k8s.Provider(name, kubeconfig=pulumi.Output.secret(existing.kubeconfig), **options)
    return k8s.Provider(name, context=existing.context, **options)


def _application_namespace(settings: Settings, provider: pulumi.ProviderResource) -> ApplicationNamespace:
    return ApplicationNamespace(
        "app-namespace",
        ApplicationNamespaceArgs(name=settings.app_namespace),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def data_volumes(settings: Settings) -> DataVolumes:
    return DataVolumes("data", DataVolumesArgs(volumes=settings.data_volumes, labels=settings.labels))


def minio_server(settings: Settings, network_name: pulumi.Input[str]) -> MinioServer:
    minio = settings.minio
    return MinioServer(
        "minio",
        MinioServerArgs(
            image=minio.image,
            container_name=minio.container_name,
            data_volume_name=minio.data_volume_name,
            network_name=network_name,
            listen_address=minio.listen_address,
            api_port=minio.api_port,
            console_port=minio.console_port,
            bucket=minio.bucket,
            region=minio.region,
            velero_user=minio.velero_user,
            labels=settings.labels,
        ),
    )


def _kind_environment(settings: Settings) -> Cluster:
    """Data volumes, the KIND cluster with them mounted, its workload storage, and MinIO if it is the backend."""
    labels = settings.labels
    volumes = data_volumes(settings)
    kind = settings.kind
    cluster = KindCluster(
        "kind",
        KindClusterArgs(
            cluster_name=kind.cluster_name,
            node_image=kind.node_image,
            api_server_port=kind.api_server_port,
            network_name=kind.network_name,
            mounts=tuple(
                NodeMount(host_path=volumes.mountpoints[volume.service], container_path=volume.node_path)
                for volume in settings.data_volumes
            ),
            port_mappings=kind.port_mappings,
            labels=labels,
        ),
    )
    app_namespace = _application_namespace(settings, cluster.provider)
    workload_storage = WorkloadStorage(
        "workload-storage",
        WorkloadStorageArgs(
            namespace=app_namespace.name,
            storage_class_name=settings.storage_class_name,
            node_name=kind.node_name,
            volumes=settings.data_volumes,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[app_namespace]),
    )
    outputs = {
        "clusterName": cluster.cluster_name,
        "kubeContext": cluster.context_name,
        "kubeconfig": cluster.kubeconfig,
        "dataVolumes": volumes.names,
        "persistentVolumeClaims": {service: claim.metadata.name for service, claim in workload_storage.claims.items()},
    }
    if settings.minio is None:
        return Cluster(cluster.provider, app_namespace, outputs)
    storage = minio_server(settings, cluster.network_name)
    backend = MinioBackend(
        bucket=storage.bucket,
        region=storage.region,
        s3_url=storage.cluster_endpoint,
        public_url=storage.host_endpoint,
        plugin_image=settings.backend.plugin_image,
        access_key=storage.velero_access_key,
        secret_key=storage.velero_secret_key,
        prefix=settings.backend.prefix,
    )
    outputs.update(
        {
            "minioEndpoint": storage.host_endpoint,
            "minioClusterEndpoint": storage.cluster_endpoint,
            "minioConsoleUrl": storage.console_url,
        }
    )
    return Cluster(cluster.provider, app_namespace, outputs, backend, [storage.velero_access])


def build_backups(
    settings: Settings,
    backend: StorageBackend,
    *,
    provider: pulumi.ProviderResource,
    app_namespace: ApplicationNamespace,
    chart_provider: Optional[pulumi.ProviderResource] = None,
    location_after: Sequence[pulumi.Resource] = (),
) -> dict[str, Any]:
    """Velero, its storage location, the catalogue's schedules and the alert rules, on any backend.

    app_namespace: where the application runs (restores land there; so do the alert rules in
    annotations mode); location_after: what must exist before the location is usable (its
    bucket, its user).
    """
    velero = settings.velero
    labels = settings.labels
    install = VeleroInstall(
        "velero",
        VeleroInstallArgs(
            namespace=velero.namespace,
            chart=velero.chart,
            image=velero.image,
            backend=backend,
            repository_password=pulumi.Output.secret(velero.repository_password),
            monitoring=velero.monitoring,
            rbac=velero.rbac,
            restore_namespaces=(app_namespace.name,),
            chart_provider=chart_provider,
            node_agent=velero.node_agent,
            maintenance=velero.maintenance,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[app_namespace]),
    )
    # The location and the schedules need Velero's CRDs, namespace and secrets, not its running
    # pods: they are created while Velero starts, and the location's own await (Available) is what
    # ends `pulumi up`, beside the chart's await of the server and the node agent.
    location = BackupStorageLocation(
        "backup-location",
        BackupStorageLocationArgs(
            namespace=velero.namespace,
            backend=backend,
            credentials_secret=install.credentials_secret,
            available_timeout_seconds=velero.location_timeout_seconds,
            validation_frequency=velero.location_validation_frequency,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[*install.foundation, *location_after]),
    )
    hooks = {hook.name: hook for hook in settings.catalogue.hooks}
    schedules = [
        BackupSchedule(
            f"schedule-{schedule.name}",
            BackupScheduleArgs(
                schedule=schedule,
                hooks=hooks,
                velero_namespace=velero.namespace,
                app_namespace=settings.app_namespace,
                storage_location=location.location_name,
                parallel_files_upload=velero.node_agent.parallel_files_upload,
                labels=labels,
            ),
            opts=pulumi.ResourceOptions(provider=provider, depends_on=install.foundation),
        )
        for schedule in settings.catalogue.schedules
    ]
    operator = velero.monitoring == "prometheusOperator"
    VeleroAlerts(
        "velero-alerts",
        VeleroAlertsArgs(
            monitoring=velero.monitoring,
            namespace=velero.namespace if operator else settings.app_namespace,
            schedules=settings.catalogue.schedules,
            grace_seconds=velero.alert_grace_seconds,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(
            provider=provider, depends_on=install.foundation if operator else [app_namespace]
        ),
    )
    # In the application's namespace in both monitoring modes: where its Grafana looks.
    VeleroDashboard(
        "velero-dashboard",
        VeleroDashboardArgs(
            namespace=app_namespace.name,
            schedules=settings.catalogue.schedules,
            grace_seconds=velero.alert_grace_seconds,
            sidecar_label=velero.grafana_dashboard_label,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[app_namespace]),
    )
    return {
        "veleroNamespace": install.namespace,
        "backupStorageLocation": location.location_name,
        "bucket": backend.bucket,
        "schedules": [schedule.summary for schedule in schedules],
        "backupPlan": backup_plan(settings.catalogue).as_output(),
    }
