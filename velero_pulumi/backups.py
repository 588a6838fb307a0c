"""Velero's part of a stack on any cluster and backend: the install, its storage location, the
catalogue's schedules, the alert rules and the dashboard, from validated Settings.

The project's program calls build_backups for both of its cluster modes; existing_cluster_backups
is the whole of an existing-cluster stack, and what the package's Backups component
(velero_pulumi.package) runs for TypeScript, YAML and Python programs, so both make the same objects
from the same settings.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from .components import (
    ApplicationNamespace,
    ApplicationNamespaceArgs,
    BackupSchedule,
    BackupScheduleArgs,
    BackupStorageLocation,
    BackupStorageLocationArgs,
    StorageBackend,
    VeleroAlerts,
    VeleroAlertsArgs,
    VeleroDashboard,
    VeleroDashboardArgs,
    VeleroInstall,
    VeleroInstallArgs,
    cloud_backend,
)
from .config import Settings
from .config.plan import backup_plan


def existing_cluster_backups(settings: Settings, parent: Optional[pulumi.Resource] = None) -> dict[str, Any]:
    """Velero and its backups on a cluster the stack does not create; returns the outputs.

    The cluster: the settings' kubeconfig or context, else (with a parent) the provider the
    parent's resource options give its children."""
    existing = settings.existing_cluster
    provider = chart_provider = None
    if existing.kubeconfig or existing.context:
        provider = existing_cluster_provider(settings, "cluster", parent)
        # A destroy keeps the chart's CRDs (VeleroInstall): a later install adopts them instead of
        # failing with AlreadyExists. Only the chart's objects go through this provider.
        chart_provider = existing_cluster_provider(settings, "cluster-chart", parent, upsert_existing_objects=True)
    return build_backups(
        settings,
        cloud_backend(settings.backend),
        provider=provider,
        chart_provider=chart_provider,
        app_namespace=application_namespace(settings, provider, parent),
        parent=parent,
    )


def existing_cluster_provider(
    settings: Settings, name: str, parent: Optional[pulumi.Resource] = None, **options: Any
) -> k8s.Provider:
    existing = settings.existing_cluster
    opts = pulumi.ResourceOptions(parent=parent)
    if existing.kubeconfig:
        return k8s.Provider(name, kubeconfig=pulumi.Output.secret(existing.kubeconfig), **options, opts=opts)
    return k8s.Provider(name, context=existing.context, **options, opts=opts)


def application_namespace(
    settings: Settings, provider: Optional[pulumi.ProviderResource], parent: Optional[pulumi.Resource] = None
) -> ApplicationNamespace:
    return ApplicationNamespace(
        "app-namespace",
        ApplicationNamespaceArgs(name=settings.app_namespace),
        opts=pulumi.ResourceOptions(provider=provider, parent=parent),
    )


def build_backups(
    settings: Settings,
    backend: StorageBackend,
    *,
    provider: Optional[pulumi.ProviderResource],
    app_namespace: ApplicationNamespace,
    chart_provider: Optional[pulumi.ProviderResource] = None,
    location_after: Sequence[pulumi.Resource] = (),
    parent: Optional[pulumi.Resource] = None,
) -> dict[str, Any]:
    """Velero, its storage location, the catalogue's schedules and the alert rules, on any backend.

    app_namespace: where the application runs (restores land there; so do the alert rules in
    annotations mode); location_after: what must exist before the location is usable (its
    bucket, its user); provider None: the parent's (a component's resource options).
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
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[app_namespace]),
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
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[*install.foundation, *location_after]),
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
            opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=install.foundation),
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
            parent=parent, provider=provider, depends_on=install.foundation if operator else [app_namespace]
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
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[app_namespace]),
    )
    return {
        "veleroNamespace": install.namespace,
        "backupStorageLocation": location.location_name,
        "bucket": backend.bucket,
        "schedules": [schedule.summary for schedule in schedules],
        "backupPlan": backup_plan(settings.catalogue).as_output(),
    }
