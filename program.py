"""The environment, from settings to components to stack outputs."""

from __future__ import annotations

from typing import Any

from components import (
    DataVolumes,
    DataVolumesArgs,
    KindCluster,
    KindClusterArgs,
    MinioServer,
    MinioServerArgs,
    NodeMount,
)
from config import Settings


def build_dev_environment(settings: Settings) -> dict[str, Any]:
    """Data volumes, the KIND cluster with those volumes mounted, and MinIO beside it.

    Returns the stack outputs.
    """
    labels = settings.labels
    volumes = DataVolumes("data", DataVolumesArgs(volumes=settings.data_volumes, labels=labels))
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
    minio = settings.minio
    storage = MinioServer(
        "minio",
        MinioServerArgs(
            image=minio.image,
            container_name=minio.container_name,
            data_volume_name=minio.data_volume_name,
            network_name=cluster.network_name,
            listen_address=minio.listen_address,
            api_port=minio.api_port,
            console_port=minio.console_port,
            bucket=minio.bucket,
            region=minio.region,
            velero_user=minio.velero_user,
            labels=labels,
        ),
    )
    return {
        "minioEndpoint": storage.host_endpoint,
        "minioClusterEndpoint": storage.cluster_endpoint,
        "minioConsoleUrl": storage.console_url,
        "bucket": storage.bucket,
        "clusterName": cluster.cluster_name,
        "kubeContext": cluster.context_name,
        "kubeconfig": cluster.kubeconfig,
        "dataVolumes": volumes.names,
    }
