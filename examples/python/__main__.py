"""Velero, its storage location and two schedules on a cluster that exists: a program of your own
that uses the velero-pulumi package (pip install velero-pulumi). Its config is checked before any
resource is registered, as the package's own program does; a bad value stops it with the key,
the value and what was expected."""

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from velero_pulumi import (
    BackupSchedule,
    BackupScheduleArgs,
    BackupStorageLocation,
    BackupStorageLocationArgs,
    CloudBackend,
    Plugin,
    VeleroInstall,
    VeleroInstallArgs,
)
from velero_pulumi.components.storage_backends import aws_credentials_file
from velero_pulumi.config.catalogue import load_catalogue
from velero_pulumi.config.charts import read_chart_source
from velero_pulumi.config.problems import Problems
from velero_pulumi.config.values import image_reference
from velero_pulumi.config.versions import split_image

NAMESPACE = "velero"
APP_NAMESPACE = "default"

config = pulumi.Config()
problems = Problems()
chart = read_chart_source(problems, "chart", config.require("chart"), "chartVersion", config.get("chartVersion"),
                          Path.cwd())
velero_image = image_reference(problems, "veleroImage", config.require("veleroImage"))
plugin_image = image_reference(problems, "awsPluginImage", config.require("awsPluginImage"))
catalogue = load_catalogue(problems, "catalogue", Path.cwd() / "catalogue.yaml")
problems.raise_if_any()

cluster = k8s.Provider("cluster", context=config.get("kubeContext") or None)
backend = CloudBackend(
    provider="aws",
    bucket=config.require("bucket"),
    prefix=None,
    plugin=Plugin("velero-plugin-for-aws", plugin_image),
    config={"region": config.require("region"), "s3Url": config.require("s3Url"), "s3ForcePathStyle": "true"},
    credentials=aws_credentials_file(config.require_secret("accessKeyId"), config.require_secret("secretAccessKey")),
)
on_cluster = pulumi.ResourceOptions(provider=cluster)
velero = VeleroInstall(
    "velero",
    VeleroInstallArgs(
        namespace=NAMESPACE,
        chart=chart,
        image=split_image(velero_image),
        backend=backend,
        repository_password=config.require_secret("repositoryPassword"),
        monitoring="annotations",
    ),
    opts=on_cluster,
)
location = BackupStorageLocation(
    "backup-location",
    BackupStorageLocationArgs(namespace=NAMESPACE, backend=backend, credentials_secret=velero.credentials_secret),
    opts=pulumi.ResourceOptions(provider=cluster, depends_on=velero.foundation),
)
hooks = {hook.name: hook for hook in catalogue.hooks}
schedules = [
    BackupSchedule(
        f"schedule-{schedule.name}",
        BackupScheduleArgs(schedule=schedule, hooks=hooks, velero_namespace=NAMESPACE, app_namespace=APP_NAMESPACE,
                           storage_location=location.location_name),
        opts=pulumi.ResourceOptions(provider=cluster, depends_on=velero.foundation),
    )
    for schedule in catalogue.schedules
]

pulumi.export("storageLocation", location.location_name)
pulumi.export("schedules", [schedule.schedule_name for schedule in schedules])
