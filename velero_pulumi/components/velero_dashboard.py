"""VeleroDashboard: a Grafana dashboard of backup health, as a ConfigMap the app's Grafana picks up.

Grafana's dashboard sidecar loads every ConfigMap with its label (`grafana_dashboard: "1"` by
default, `grafanaDashboardLabel`). The dashboard shows, from Velero's own metrics: whether the
storage location is available, failures and partial failures, backup duration and size, and a
row per catalogue schedule with the age of its last successful backup against its cadence. The
rows are generated from the catalogue, so a new schedule appears by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from ..config.catalogue import Schedule

from .velero_alerts import stale_after_seconds

DASHBOARD_FILE = "velero-backups.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39


@dataclass(frozen=True)
class VeleroDashboardArgs:
    namespace: str
    schedules: tuple[Schedule, ...]
    grace_seconds: float
    # The label Grafana's dashboard sidecar selects ConfigMaps by.
    sidecar_label: tuple[str, str] = ("grafana_dashboard", "1")
    labels: Mapping[str, str] = field(default_factory=dict)


class _Panels:
    """Panels with unique ids, laid out left to right on a 24-column grid."""

    def __init__(self) -> None:
        self.panels: list[dict] = []
        self.x = self.y = 0

    def add(self, kind: str, title: str, targets: list[tuple[str, str]], width: int, height: int = 6, **extra) -> None:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + height
        self.panels.append({
            "id": len(self.panels) + 1, "type": kind, "title": title, "datasource": DATASOURCE,
            "gridPos": {"x": self.x, "y": self.y, "w": width, "h": height},
            "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                        for i, (expr, legend) in enumerate(targets)],
            **extra,
        })
        self.x += width

    def row(self, title: str) -> None:
        self.x, self.y = 0, self.y + 6
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.y += 1


def _thresholds(*steps: tuple[Optional[float], str]) -> dict:
    return {"defaults": {"thresholds": {"mode": "absolute",
                                         "steps": [{"value": value, "color": color} for value, color in steps]}}}


def dashboard(schedules: tuple[Schedule, ...], grace_seconds: float) -> dict:
    panels = _Panels()
    panels.add("stat", "Storage location available", [("velero_backup_location_status_gauge", "{{backup_location_name}}")],
               6, fieldConfig=_thresholds((None, "red"), (1, "green")))
    panels.add("timeseries", "Failed and partially failed backups (24h)", [
        ("sum by (schedule) (increase(velero_backup_failure_total[24h]))", "failed {{schedule}}"),
        ("sum by (schedule) (increase(velero_backup_partial_failure_total[24h]))", "partially failed {{schedule}}"),
    ], 6)
    panels.add("timeseries", "Backup duration (p95)", [
        ("histogram_quantile(0.95, sum by (le, schedule) (rate(velero_backup_duration_seconds_bucket[6h])))",
         "{{schedule}}"),
    ], 6, fieldConfig={"defaults": {"unit": "s"}})
    panels.add("timeseries", "Backup size", [("velero_backup_tarball_size_bytes", "{{schedule}}")], 6,
               fieldConfig={"defaults": {"unit": "bytes"}})
    for schedule in schedules:
        stale = stale_after_seconds(schedule, grace_seconds)
        if stale is None:  # a paused template has no cadence to be late for
            continue
        cadence = schedule.longest_gap_minutes * 60
        selector = f'{{schedule="{schedule.name}"}}'
        # The cadence, not the cron: moving a schedule within its interval leaves the dashboard as it is.
        panels.row(f"{schedule.name}: a backup every {schedule.longest_gap_minutes} min at most")
        panels.add("stat", "Age of the last successful backup",
                   [(f"time() - velero_backup_last_successful_timestamp{selector}", schedule.name)], 12,
                   fieldConfig={"defaults": {"unit": "s", **_thresholds(
                       (None, "green"), (cadence, "yellow"), (stale, "red"))["defaults"]}})
        panels.add("stat", "Last backup", [(f"velero_backup_last_status{selector}", schedule.name)], 12,
                   fieldConfig={"defaults": {"mappings": [{"type": "value", "options": {
                       "0": {"text": "failed", "color": "red"}, "1": {"text": "succeeded", "color": "green"}}}]}})
    return {
        "uid": "brrtrouter-velero-backups",
        "title": "Velero backups",
        "tags": ["velero", "backups"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "panels": panels.panels,
    }


class VeleroDashboard(pulumi.ComponentResource):
    config_map: k8s.core.v1.ConfigMap

    def __init__(self, name: str, args: VeleroDashboardArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:VeleroDashboard", name, None, opts)
        key, value = args.sidecar_label
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="velero-dashboard", namespace=args.namespace, labels={**args.labels, key: value}
            ),
            data={DASHBOARD_FILE: json.dumps(dashboard(args.schedules, args.grace_seconds), indent=1)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboard": DASHBOARD_FILE})
