"""VeleroDashboard: a valid Grafana dashboard of Velero's own metrics, a row per catalogue schedule,
as a ConfigMap with the sidecar's label in the application namespace, in both monitoring modes."""

from __future__ import annotations

import json

import pytest
import yaml

from velero_pulumi.components import VeleroDashboard, VeleroDashboardArgs
from velero_pulumi.components.velero_dashboard import DASHBOARD_FILE, dashboard

from .fixtures import VELERO_METRICS, queried_metrics
from .harness import PROJECT_DIR, run
from .stacks import run_stack

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def shipped(run_result) -> dict:
    config_map = run_result.one(CONFIG_MAP, "velero-dashboard-dashboard").values
    return json.loads(config_map["data"][DASHBOARD_FILE])


@pytest.fixture(scope="module")
def board():
    return shipped(run_stack("dev"))


def test_it_is_a_valid_grafana_dashboard(board):
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["uid"] and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    # The datasource is a variable, so the dashboard works with whatever the app's Prometheus is called.
    [variable] = board["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == ("datasource", "datasource", "prometheus")
    for panel in board["panels"]:
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_it_shows_location_failures_duration_and_size(board):
    titles = {panel["title"] for panel in board["panels"]}
    assert {"Storage location available", "Failed and partially failed backups (24h)", "Backup duration (p95)",
            "Backup size"} <= titles
    expressions = " ".join(t["expr"] for panel in board["panels"] for t in panel.get("targets", []))
    assert "velero_backup_partial_failure_total" in expressions and "velero_backup_failure_total" in expressions


def test_every_metric_it_queries_is_one_velero_exports(board):
    used = queried_metrics(json.dumps(board))
    assert used and used <= VELERO_METRICS


def test_a_row_per_running_schedule_with_its_cadence(board):
    rows = [panel["title"] for panel in board["panels"] if panel["type"] == "row"]
    assert len(rows) == 11  # the paused pre-upgrade template has no cadence
    age = next(p for p in board["panels"] if p["type"] == "stat" and 'schedule="prometheus-data"' in p["targets"][0]["expr"])
    steps = age["fieldConfig"]["defaults"]["thresholds"]["steps"]
    # Every 4 h: yellow once a backup is due, red when the stale alert would fire (4 h + 1 h grace).
    assert [step["value"] for step in steps] == [None, 4 * 3600, 5 * 3600]


def test_a_new_schedule_appears_by_itself(tmp_path):
    document = yaml.safe_load((PROJECT_DIR / "config" / "catalogue.yaml").read_text())
    document["schedules"]["tempo-traces"] = {"cron": "15 */2 * * *", "ttl": "72h", "services": ["loki"]}
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document))
    board = shipped(run_stack("dev", catalogue=str(path)))
    assert "tempo-traces: a backup every 120 min at most" in [p["title"] for p in board["panels"] if p["type"] == "row"]


@pytest.mark.parametrize("monitoring", ["annotations", "prometheusOperator"])
def test_it_is_there_in_both_monitoring_modes_with_the_sidecars_label(monitoring):
    result = run_stack("dev", monitoring=monitoring)
    metadata = result.one(CONFIG_MAP, "velero-dashboard-dashboard").values["metadata"]
    assert metadata["namespace"] == "brrtrouter-dev"
    assert metadata["labels"]["grafana_dashboard"] == "1"


def test_the_sidecar_label_is_configurable():
    metadata = run_stack("dev", grafanaDashboardLabel="grafana.io/dashboard=velero").one(
        CONFIG_MAP, "velero-dashboard-dashboard").values["metadata"]
    assert metadata["labels"]["grafana.io/dashboard"] == "velero" and "grafana_dashboard" not in metadata["labels"]


def test_the_component_parents_its_config_map():
    built = run(lambda: VeleroDashboard("board", VeleroDashboardArgs(namespace="apps", schedules=(), grace_seconds=3600)))
    config_map = built.one(CONFIG_MAP)
    assert config_map.parent == built.one("brrtrouter:backup:VeleroDashboard").urn
    assert json.loads(config_map.values["data"][DASHBOARD_FILE]) == dashboard((), 3600)
