"""Velero's part of a stack on any cluster and backend: the install, its storage location, the
catalogue's schedules, the alert rules and the dashboard, from validated Settings.

The project's program calls build_backups for both of its cluster modes; existing_cluster_backups
is the whole of an existing-cluster stack, and what the package's Backups component
(velero_pulumi.package) runs for TypeScript, YAML and Python programs, so both make the same objects
from the same settings.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

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
from .config.catalogue import Schedule
from .config.plan import backup_plan


def existing_cluster_backups(settings: Settings, parent: Optional[pulumi.Resource] = None) -> dict[str, Any]:
    """Velero and its backups on a cluster the stack does not create; returns the outputs."""
    provider, chart_provider = existing_cluster_providers(settings, parent)
    return build_backups(
        settings,
        cloud_backend(settings.backend),
        provider=provider,
        chart_provider=chart_provider,
        app_namespace=application_namespace(settings, provider, parent),
        parent=parent,
    )


def existing_cluster_providers(
    settings: Settings, parent: Optional[pulumi.Resource] = None
) -> tuple[Optional[k8s.Provider], Optional[k8s.Provider]]:
    """The providers of the cluster, and of the chart's objects on it: from the settings'
    kubeconfig or context; (None, None) without them, which is the provider the parent's resource
    options give its children."""
    existing = settings.existing_cluster
    if not (existing.kubeconfig or existing.context):
        return None, None
    # A destroy keeps the chart's CRDs (VeleroInstall): a later install adopts them instead of
    # failing with AlreadyExists. Only the chart's objects go through this provider.
    return (existing_cluster_provider(settings, "cluster", parent),
            existing_cluster_provider(settings, "cluster-chart", parent, upsert_existing_objects=True))


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
    install = install_velero(settings, backend, provider=provider, chart_provider=chart_provider,
                             app_namespace=app_namespace, parent=parent)
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
    alerts_and_dashboard(
        settings.catalogue.schedules, monitoring=velero.monitoring, velero_namespace=velero.namespace,
        app_namespace=settings.app_namespace, grace_seconds=velero.alert_grace_seconds,
        dashboard_label=velero.grafana_dashboard_label, labels=labels, provider=provider, parent=parent,
        alerts_after=install.foundation if operator else [app_namespace], dashboard_after=[app_namespace],
    )
    return {
        "veleroNamespace": install.namespace,
        "backupStorageLocation": location.location_name,
        "bucket": backend.bucket,
        "schedules": [schedule.summary for schedule in schedules],
        "backupPlan": backup_plan(settings.catalogue).as_output(),
    }


def install_velero(
    settings: Settings,
    backend: StorageBackend,
    *,
    provider: Optional[pulumi.ProviderResource],
    chart_provider: Optional[pulumi.ProviderResource],
    app_namespace: ApplicationNamespace,
    parent: Optional[pulumi.Resource] = None,
) -> VeleroInstall:
    """Velero's chart, its node agent and its secrets, after the application's namespace."""
    velero = settings.velero
    return VeleroInstall(
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
            labels=settings.labels,
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[app_namespace]),
    )


def alerts_and_dashboard(
    schedules: Sequence[Schedule],
    *,
    monitoring: str,
    velero_namespace: str,
    app_namespace: str,
    grace_seconds: float,
    dashboard_label: tuple[str, str],
    labels: Mapping[str, str],
    provider: Optional[pulumi.ProviderResource],
    parent: Optional[pulumi.Resource],
    alerts_after: Sequence[pulumi.Resource] = (),
    dashboard_after: Sequence[pulumi.Resource] = (),
) -> VeleroAlerts:
    """The alert rules (a PrometheusRule in Velero's namespace, or a ConfigMap in the
    application's) and the dashboard, in the application's namespace in both monitoring modes:
    where its Grafana looks."""
    operator = monitoring == "prometheusOperator"
    alerts = VeleroAlerts(
        "velero-alerts",
        VeleroAlertsArgs(
            monitoring=monitoring,
            namespace=velero_namespace if operator else app_namespace,
            schedules=tuple(schedules),
            grace_seconds=grace_seconds,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(alerts_after)),
    )
    VeleroDashboard(
        "velero-dashboard",
        VeleroDashboardArgs(
            namespace=app_namespace,
            schedules=tuple(schedules),
            grace_seconds=grace_seconds,
            sidecar_label=dashboard_label,
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(dashboard_after)),
    )
    return alerts
