"""VeleroAlerts: Prometheus alert rules for failed, stale and unstorable backups.

The stale-backup threshold of each schedule follows from its cron: the longest gap between two
runs plus a grace period for the backup itself to finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import yaml

from ..config.catalogue import Schedule

RULES_FILE = "velero-alerts.yaml"


@dataclass(frozen=True)
class VeleroAlertsArgs:
    # "annotations": a ConfigMap for a plain Prometheus; "prometheusOperator": a PrometheusRule.
    monitoring: str
    namespace: str
    schedules: tuple[Schedule, ...]
    grace_seconds: float
    labels: Mapping[str, str] = field(default_factory=dict)


def stale_after_seconds(schedule: Schedule, grace_seconds: float) -> Optional[int]:
    if schedule.paused or schedule.longest_gap_minutes is None:
        return None
    return int(schedule.longest_gap_minutes * 60 + grace_seconds)


def alert_rules(schedules: tuple[Schedule, ...], grace_seconds: float) -> dict:
    """A Prometheus rules document (the `groups` of a rule file or a PrometheusRule spec)."""
    rules = [
        {
            "alert": "VeleroBackupFailed",
            "expr": 'velero_backup_last_status{schedule!=""} == 0',
            "for": "5m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "Velero backup of schedule {{ $labels.schedule }} failed",
                "description": "The last backup of {{ $labels.schedule }} did not complete: "
                "velero backup describe --details and velero backup logs tell why.",
            },
        },
        {
            "alert": "VeleroBackupStorageLocationUnavailable",
            "expr": "velero_backup_location_status_gauge == 0",
            "for": "10m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "Velero cannot use backup storage location {{ $labels.backup_location_name }}",
                "description": "No backup can be written or read there: check the location's URL and credentials "
                "(velero backup-location get).",
            },
        },
    ]
    for schedule in schedules:
        threshold = stale_after_seconds(schedule, grace_seconds)
        if threshold is None:
            continue
        selector = f'{{schedule="{schedule.name}"}}'
        rules.append(
            {
                "alert": "VeleroBackupStale",
                # The second clause keeps a schedule that has not run yet from alerting.
                "expr": f"time() - velero_backup_last_successful_timestamp{selector} > {threshold}"
                f" and velero_backup_last_successful_timestamp{selector} > 0",
                "labels": {"severity": "warning", "schedule": schedule.name},
                "annotations": {
                    "summary": f"No successful {schedule.name} backup for more than {threshold // 3600}h",
                    # The interval, not the cron: moving a schedule within its interval changes
                    # only the Schedule, not the rules (`velero schedule get` shows the cron).
                    "description": f"Schedule {schedule.name} should succeed at least every "
                    f"{schedule.longest_gap_minutes} minutes (its cron's longest gap).",
                },
            }
        )
    return {"groups": [{"name": "velero-backups", "rules": rules}]}


class VeleroAlerts(pulumi.ComponentResource):
    # How many rules: a failed backup, an unavailable location, one per schedule that runs on its own.
    rule_count: int

    def __init__(self, name: str, args: VeleroAlertsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:VeleroAlerts", name, None, opts)
        rules = alert_rules(args.schedules, args.grace_seconds)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name="velero-alerts", namespace=args.namespace, labels={**args.labels, "prometheus-rules": "velero"}
        )
        if args.monitoring == "prometheusOperator":
            k8s.apiextensions.CustomResource(
                f"{name}-rule",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=metadata,
                spec=rules,
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            k8s.core.v1.ConfigMap(
                f"{name}-rules",
                metadata=metadata,
                data={RULES_FILE: yaml.safe_dump(rules, sort_keys=False)},
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.rule_count = len(rules["groups"][0]["rules"])
        self.register_outputs({"ruleCount": self.rule_count})
