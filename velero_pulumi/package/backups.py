"""Backups: Velero, its storage location and a catalogue's schedules on a cluster that exists, as
one component for TypeScript, YAML and Python programs.

It reads its inputs with the project's own settings reader (reading.py), then makes what the
project's program makes for an existing-cluster stack (velero_pulumi.backups), parented to itself.
"""

from typing import Optional

import pulumi

from ..backups import existing_cluster_backups
from ..config.catalogue import parse_catalogue
from ..config.settings import read_settings
from .inputs import BackupsArgs
from .reading import REQUIRED_INPUTS, catalogue_document, component_inputs, with_secret_outputs

TYPE = "velero:index:Backups"


class Backups(pulumi.ComponentResource):
    """Velero on a cluster that exists (the official chart, its node agent, the repository password
    and credentials as Secrets), its storage location, awaited until Available, and one Schedule
    per entry of the catalogue, with alert rules and a Grafana dashboard."""

    velero_namespace: pulumi.Output[str]
    """Velero's namespace."""
    storage_location: pulumi.Output[str]
    """The BackupStorageLocation's name."""
    bucket: pulumi.Output[str]
    """The bucket (or Blob container) the backups go to."""
    schedules: pulumi.Output[list[str]]
    """The Schedules' names."""

    def __init__(self, name: str, args: BackupsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        given = component_inputs(args, BackupsArgs, required=REQUIRED_INPUTS)
        catalogue = parse_catalogue(given.problems, "catalogue", catalogue_document(given.inputs.get("catalogue")))
        # No project folder: the component runs in the engine's plugin, not in the user's program's folder.
        settings = read_settings(given.read, project=pulumi.get_project(), stack=pulumi.get_stack(),
                                 catalogue=catalogue, project_dir=None, cluster_required=False)
        settings = with_secret_outputs(settings, given.secret_outputs)
        super().__init__(TYPE, name, {}, opts)
        outputs = existing_cluster_backups(settings, parent=self)
        self.velero_namespace = pulumi.Output.from_input(outputs["veleroNamespace"])
        self.storage_location = pulumi.Output.from_input(outputs["backupStorageLocation"])
        self.bucket = pulumi.Output.from_input(outputs["bucket"])
        self.schedules = pulumi.Output.from_input([schedule.name for schedule in settings.catalogue.schedules])
        self.register_outputs({"veleroNamespace": self.velero_namespace, "storageLocation": self.storage_location,
                               "bucket": self.bucket, "schedules": self.schedules})
