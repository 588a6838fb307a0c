"""One ComponentResource per part of the environment."""

from .application_namespace import ApplicationNamespace, ApplicationNamespaceArgs
from .backup_schedule import BackupSchedule, BackupScheduleArgs
from .backup_storage_location import BackupStorageLocation, BackupStorageLocationArgs
from .data_volumes import DataVolumes, DataVolumesArgs
from .kind_cluster import KindCluster, KindClusterArgs, NodeMount
from .minio_server import MinioServer, MinioServerArgs
from .storage_backends import CloudBackend, MinioBackend, Plugin, StorageBackend, cloud_backend
from .velero_alerts import VeleroAlerts, VeleroAlertsArgs
from .velero_dashboard import VeleroDashboard, VeleroDashboardArgs
from .velero_install import VeleroInstall, VeleroInstallArgs
from .workload_storage import WorkloadStorage, WorkloadStorageArgs

__all__ = [
    "ApplicationNamespace",
    "ApplicationNamespaceArgs",
    "BackupSchedule",
    "BackupScheduleArgs",
    "BackupStorageLocation",
    "BackupStorageLocationArgs",
    "CloudBackend",
    "DataVolumes",
    "DataVolumesArgs",
    "KindCluster",
    "KindClusterArgs",
    "MinioBackend",
    "MinioServer",
    "MinioServerArgs",
    "NodeMount",
    "Plugin",
    "StorageBackend",
    "VeleroAlerts",
    "VeleroAlertsArgs",
    "VeleroDashboard",
    "VeleroDashboardArgs",
    "VeleroInstall",
    "VeleroInstallArgs",
    "WorkloadStorage",
    "WorkloadStorageArgs",
    "cloud_backend",
]
