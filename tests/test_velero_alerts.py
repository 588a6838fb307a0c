"""VeleroAlerts: failed backups, stale backups per schedule, an unavailable storage location."""

from __future__ import annotations

import pytest
import yaml

from velero_pulumi.components import VeleroAlerts, VeleroAlertsArgs
from velero_pulumi.components.velero_alerts import alert_rules
from velero_pulumi.config.catalogue import load_catalogue
from velero_pulumi.config.problems import Problems

from .harness import PROJECT_DIR, run


@pytest.fixture(scope="module")
def schedules():
    return load_catalogue(Problems(), "catalogue", PROJECT_DIR / "config" / "catalogue.yaml").schedules


def rules_by(rules, alert):
    return [rule for rule in rules["groups"][0]["rules"] if rule["alert"] == alert]


def test_failure_and_location_alerts_use_veleros_metrics(schedules):
    rules = alert_rules(schedules, 3600)
    [failed] = rules_by(rules, "VeleroBackupFailed")
    assert failed["expr"] == 'velero_backup_last_status{schedule!=""} == 0'
    [location] = rules_by(rules, "VeleroBackupStorageLocationUnavailable")
    assert location["expr"] == "velero_backup_location_status_gauge == 0"


def test_stale_alert_per_running_schedule_from_its_longest_gap(schedules):
    stale = {rule["labels"]["schedule"]: rule for rule in rules_by(alert_rules(schedules, 3600), "VeleroBackupStale")}
    assert set(stale) == {s.name for s in schedules if not s.paused}
    # every 4 h: 4 h + 1 h grace; weekly: 7 days + 1 h
    assert stale["prometheus-data"]["expr"] == (
        'time() - velero_backup_last_successful_timestamp{schedule="prometheus-data"} > 18000'
        ' and velero_backup_last_successful_timestamp{schedule="prometheus-data"} > 0'
    )
    assert "> 608400 and" in stale["disaster-recovery"]["expr"]


def test_grace_period_moves_the_threshold(schedules):
    stale = {r["labels"]["schedule"]: r for r in rules_by(alert_rules(schedules, 600), "VeleroBackupStale")}
    assert "> 15000 and" in stale["redis-cache"]["expr"]


def test_rules_go_to_a_configmap_for_a_plain_prometheus(schedules):
    result = run(lambda: VeleroAlerts("alerts", VeleroAlertsArgs("annotations", "brrtrouter-dev", schedules, 3600)))
    config_map = result.one("kubernetes:core/v1:ConfigMap").values
    assert config_map["metadata"]["namespace"] == "brrtrouter-dev"
    assert yaml.safe_load(config_map["data"]["velero-alerts.yaml"]) == alert_rules(schedules, 3600)
    assert result.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule") == []


def test_rules_go_to_a_prometheus_rule_with_the_operator(schedules):
    result = run(lambda: VeleroAlerts("alerts", VeleroAlertsArgs("prometheusOperator", "velero", schedules, 3600)))
    rule = result.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").values
    assert rule["metadata"]["namespace"] == "velero"
    assert rule["spec"] == alert_rules(schedules, 3600)
    assert result.of_type("kubernetes:core/v1:ConfigMap") == []
