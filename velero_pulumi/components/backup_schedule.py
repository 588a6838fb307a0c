"""BackupSchedule: one catalogue schedule as a velero.io/v1 Schedule in Velero's namespace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from ..config.catalogue import Hook, Schedule

SCHEDULE_LABEL = "brrtrouter.io/schedule"


@dataclass(frozen=True)
class BackupScheduleArgs:
    schedule: Schedule
    hooks: Mapping[str, Hook]
    velero_namespace: str
    app_namespace: str
    # The location's name: a value, or another component's output.
    storage_location: pulumi.Input[str]
    # kopia's parallel file uploads per volume; 0 leaves kopia's default (the node's CPUs).
    parallel_files_upload: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)


def _service_selector(services: tuple[str, ...]) -> dict:
    return {"matchExpressions": [{"key": "app", "operator": "In", "values": list(services)}]}


def _exec(hook: Hook) -> dict:
    return {"exec": {"container": hook.container, "command": list(hook.command), "onError": hook.on_error, "timeout": hook.timeout}}


def hook_resources(hooks: list[Hook], namespace: str) -> list[dict]:
    """Velero's hooks.resources: one entry per service, its pre and post hooks in catalogue order."""
    entries: dict[str, dict] = {}
    for hook in hooks:
        entry = entries.setdefault(
            hook.service,
            {
                "name": hook.service,
                "includedNamespaces": [namespace],
                "labelSelector": {"matchLabels": {"app": hook.service}},
            },
        )
        entry.setdefault(hook.phase, []).append(_exec(hook))
    return list(entries.values())


def schedule_spec(args: BackupScheduleArgs) -> dict:
    schedule = args.schedule
    template: dict = {
        "includedNamespaces": [args.app_namespace],
        "storageLocation": args.storage_location,
        "ttl": schedule.ttl,
        # No snapshotter on KIND and none configured: volume data goes by file-system backup.
        "snapshotVolumes": False,
        "defaultVolumesToFsBackup": schedule.volume_data,
        "metadata": {"labels": {SCHEDULE_LABEL: schedule.name}},
    }
    if schedule.services:
        template["labelSelector"] = _service_selector(schedule.services)
    if schedule.resources:
        template["includedResources"] = list(schedule.resources)
    if schedule.cluster_resources is not None:
        template["includeClusterResources"] = schedule.cluster_resources
    if schedule.volume_data and args.parallel_files_upload:
        template["uploaderConfig"] = {"parallelFilesUpload": args.parallel_files_upload}
    if schedule.hooks:
        template["hooks"] = {
            "resources": hook_resources([args.hooks[name] for name in schedule.hooks], args.app_namespace)
        }
    return {
        "schedule": schedule.cron,
        "paused": schedule.paused,
        # True would let Velero delete a schedule's backups with the schedule (or its replacement).
        "useOwnerReferencesInBackup": False,
        "template": template,
    }


def schedule_scope(schedule: Schedule, app_namespace: str) -> str:
    """What a schedule backs up, in words, for the stack's summary."""
    parts = [f"namespace {app_namespace}"]
    if schedule.services:
        parts.append(f"services {', '.join(schedule.services)}")
    if schedule.resources:
        parts.append(f"resources {', '.join(schedule.resources)}")
    if schedule.cluster_resources:
        parts.append("cluster-scoped resources")
    if schedule.volume_data:
        parts.append("volume data")
    if schedule.hooks:
        parts.append(f"hooks {', '.join(schedule.hooks)}")
    return "; ".join(parts)


class BackupSchedule(pulumi.ComponentResource):
    schedule_name: str
    summary: dict

    def __init__(self, name: str, args: BackupScheduleArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:BackupSchedule", name, None, opts)
        schedule = args.schedule
        k8s.apiextensions.CustomResource(
            f"{name}-schedule",
            api_version="velero.io/v1",
            kind="Schedule",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=schedule.name,
                namespace=args.velero_namespace,
                labels={**args.labels, SCHEDULE_LABEL: schedule.name},
            ),
            spec=schedule_spec(args),
            # Velero writes spec.skipImmediately back after the first run: not our change. Its name is
            # fixed: a replacement must delete it first (its backups stay: no owner references).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["spec.skipImmediately"], delete_before_replace=True),
        )
        self.schedule_name = schedule.name
        self.summary = {
            "name": schedule.name,
            "cron": schedule.cron,
            "ttl": schedule.ttl,
            "retentionDays": round(schedule.ttl_seconds / 86400, 2),
            "paused": schedule.paused,
            "scope": schedule_scope(schedule, args.app_namespace),
        }
        self.register_outputs({"summary": self.summary})
