"""One ComponentResource per part of the environment."""

from .data_volumes import DataVolumes, DataVolumesArgs
from .kind_cluster import KindCluster, KindClusterArgs, NodeMount
from .minio_server import MinioServer, MinioServerArgs

__all__ = [
    "DataVolumes",
    "DataVolumesArgs",
    "KindCluster",
    "KindClusterArgs",
    "MinioServer",
    "MinioServerArgs",
    "NodeMount",
]
