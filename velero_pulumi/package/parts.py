"""The parts of Backups, for a program that composes them: Install, StorageLocation,
BackupSchedule and Alerts. Each reads its inputs as Backups does (reading.py) and makes what
Backups makes for the same inputs (velero_pulumi.backups and the components it uses).

A program connects them through outputs: the Install's credentialsSecret goes to the
StorageLocation, the StorageLocation's locationName to each BackupSchedule. An output of a hosted
component is known only once the whole component is up, so a location made from the Install's
output waits for Velero to run, and a schedule for its location to be Available.
"""

import dataclasses
from typing import Any, Optional

import pulumi

from ..backups import alerts_and_dashboard, application_namespace, existing_cluster_providers, install_velero
from ..components import BackupSchedule as ScheduleResource
from ..components import BackupScheduleArgs as ScheduleResourceArgs
from ..components import BackupStorageLocation, BackupStorageLocationArgs, cloud_backend
from ..components.backup_storage_location import DEFAULT_LOCATION
from ..config import values
from ..config.backends import read_backend
from ..config.catalogue import Catalogue, parse_catalogue
from ..config.problems import Problems
from ..config.settings import VeleroSettings, read_settings, read_velero, stack_labels
from .inputs import AlertsArgs, BackupScheduleArgs, InstallArgs, StorageLocationArgs
from .reading import (REQUIRED_INPUTS, ComponentInputs, catalogue_document, component_inputs, name_input, schema_names,
                      with_secret_outputs)

@dataclasses.dataclass(frozen=True)
class PartSettings:
    """What a part that does not install Velero reads besides its own inputs, as Backups reads it."""

    velero: VeleroSettings
    app_namespace: Optional[str]
    labels: dict[str, str]


def part_settings(given: ComponentInputs) -> PartSettings:
    return PartSettings(
        velero=read_velero(given.read, None, installs=False),
        app_namespace=given.read.check("appNamespace", values.dns_label),
        labels=stack_labels(given.read.check("namePrefix", values.dns_label), pulumi.get_project(), pulumi.get_stack()),
    )


class Install(pulumi.ComponentResource):
    """Velero on a cluster that exists: the chart, its node agent, the repository password and the
    backend's credentials as Secrets, awaited until Velero and the node agent run."""

    namespace: pulumi.Output[str]
    """Velero's namespace."""
    credentials_secret: Optional[pulumi.Output[str]]
    """The Secret that holds the backend's credentials, for the StorageLocation; none with workload identity."""

    def __init__(self, name: str, args: InstallArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        given = component_inputs(args, InstallArgs, required=REQUIRED_INPUTS)
        settings = read_settings(given.read, project=pulumi.get_project(), stack=pulumi.get_stack(),
                                 catalogue=Catalogue((), (), ()), project_dir=None, cluster_required=False)
        settings = with_secret_outputs(settings, given.secret_outputs)
        super().__init__("velero:index:Install", name, {}, opts)
        provider, chart_provider = existing_cluster_providers(settings, self)
        install = install_velero(settings, cloud_backend(settings.backend), provider=provider,
                                 chart_provider=chart_provider,
                                 app_namespace=application_namespace(settings, provider, self), parent=self)
        self.namespace = pulumi.Output.from_input(install.namespace)
        self.credentials_secret = pulumi.Output.from_input(install.credentials_secret)
        self.register_outputs({"namespace": self.namespace, "credentialsSecret": self.credentials_secret})


class StorageLocation(pulumi.ComponentResource):
    """Velero's default BackupStorageLocation, awaited until Velero finds it Available."""

    location_name: pulumi.Output[str]
    """The location's name, for each BackupSchedule."""

    def __init__(self, name: str, args: StorageLocationArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        given = component_inputs(args, StorageLocationArgs, required=("storageBackend", "backupBucket"))
        part = part_settings(given)
        velero = part.velero
        backend = read_backend(given.read, "existing", velero.image)
        secret = name_input(given.problems, "credentialsSecret", given.inputs.get("credentialsSecret"))
        given.problems.raise_if_any()
        super().__init__("velero:index:StorageLocation", name, {}, opts)
        location = BackupStorageLocation(
            "backup-location",
            BackupStorageLocationArgs(
                namespace=velero.namespace,
                backend=cloud_backend(backend),
                credentials_secret=secret,
                available_timeout_seconds=velero.location_timeout_seconds,
                validation_frequency=velero.location_validation_frequency,
                labels=part.labels,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.location_name = pulumi.Output.from_input(location.location_name)
        self.register_outputs({"locationName": self.location_name})


class BackupSchedule(pulumi.ComponentResource):
    """One velero.io/v1 Schedule of the application's namespace, with the hooks it runs."""

    schedule_name: pulumi.Output[str]
    """The Schedule's name."""
    scope: pulumi.Output[str]
    """What it backs up, in words."""

    def __init__(self, name: str, args: BackupScheduleArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        given = component_inputs(args, BackupScheduleArgs)
        part = part_settings(given)
        catalogue = parse_catalogue(given.problems, "schedule", schedule_document(
            given.problems, given.inputs.get("name"), given.inputs.get("schedule"), given.inputs.get("hooks")),
            services_required=False)
        location = name_input(given.problems, "storageLocation", given.inputs.get("storageLocation"), DEFAULT_LOCATION)
        given.problems.raise_if_any()
        super().__init__("velero:index:BackupSchedule", name, {}, opts)
        [schedule] = catalogue.schedules
        made = ScheduleResource(
            f"schedule-{schedule.name}",
            ScheduleResourceArgs(
                schedule=schedule,
                hooks={hook.name: hook for hook in catalogue.hooks},
                velero_namespace=part.velero.namespace,
                app_namespace=part.app_namespace,
                storage_location=location,
                parallel_files_upload=part.velero.node_agent.parallel_files_upload,
                labels=part.labels,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.schedule_name = pulumi.Output.from_input(made.schedule_name)
        self.scope = pulumi.Output.from_input(made.summary["scope"])
        self.register_outputs({"scheduleName": self.schedule_name, "scope": self.scope})


def schedule_document(problems: Problems, name: Any, schedule: Any, hooks: Any) -> Any:
    """One schedule as a catalogue, for the catalogue's checks: its services are the ones it and
    its hooks name."""
    if not isinstance(name, str):
        problems.add("name", name, "the Schedule's name (a required input)")
        name = ""
    hooks = schema_names(hooks) if isinstance(hooks, dict) else hooks
    named = list(schema_names(schedule).get("services") or []) if isinstance(schedule, dict) else []
    named += [schema_names(hook).get("service") for hook in (hooks or {}).values() if isinstance(hook, dict)]
    document = {"schedules": {name: schedule}}
    if services := {service: {} for service in named if isinstance(service, str)}:
        document["services"] = services
    if hooks:
        document["hooks"] = hooks
    return catalogue_document(document)


class Alerts(pulumi.ComponentResource):
    """Prometheus alert rules for a catalogue's schedules and a Grafana dashboard."""

    alert_rule_count: pulumi.Output[int]
    """How many alert rules there are (a failed backup, an unavailable location, one per schedule that runs)."""

    def __init__(self, name: str, args: AlertsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        given = component_inputs(args, AlertsArgs)
        part = part_settings(given)
        catalogue = parse_catalogue(given.problems, "catalogue", catalogue_document(given.inputs.get("catalogue")))
        given.problems.raise_if_any()
        super().__init__("velero:index:Alerts", name, {}, opts)
        alerts = alerts_and_dashboard(
            catalogue.schedules, monitoring=part.velero.monitoring, velero_namespace=part.velero.namespace,
            app_namespace=part.app_namespace, grace_seconds=part.velero.alert_grace_seconds,
            dashboard_label=part.velero.grafana_dashboard_label, labels=part.labels, provider=None, parent=self,
        )
        self.alert_rule_count = pulumi.Output.from_input(alerts.rule_count)
        self.register_outputs({"alertRuleCount": self.alert_rule_count})
