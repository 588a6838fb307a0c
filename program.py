"""The environment, from settings to components to stack outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi

from velero_pulumi import (
    ApplicationNamespace,
    DataVolumes,
    DataVolumesArgs,
    KindCluster,
    KindClusterArgs,
    MinioBackend,
    MinioServer,
    MinioServerArgs,
    NodeMount,
    StorageBackend,
    WorkloadStorage,
    WorkloadStorageArgs,
    cloud_backend,
)
from velero_pulumi.backups import application_namespace, build_backups, existing_cluster_backups
from velero_pulumi.config import Settings


@dataclass
class Cluster:
    """What the backups need from the cluster part of a stack."""

    provider: pulumi.ProviderResource
    app_namespace: ApplicationNamespace
    outputs: dict[str, Any] = field(default_factory=dict)
    # Set when the stack makes its own storage (MinIO); else the cloud backend of the settings.
    backend: Optional[StorageBackend] = None
    location_after: list[pulumi.Resource] = field(default_factory=list)


def build_environment(settings: Settings) -> dict[str, Any]:
    """The stack: its cluster (KIND and its data, or an existing one), its backend, and the backups
    (velero_pulumi.backups).

    Returns the stack outputs.
    """
    if settings.cluster_mode == "existing":
        return {"storageBackend": settings.backend.kind, **existing_cluster_backups(settings)}
    cluster = _kind_environment(settings)
    backups = build_backups(
        settings,
        cluster.backend or cloud_backend(settings.backend),
        provider=cluster.provider,
        app_namespace=cluster.app_namespace,
        location_after=cluster.location_after,
    )
    return {**cluster.outputs, "storageBackend": settings.backend.kind, **backups}


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
    app_namespace = application_namespace(settings, cluster.provider)
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
