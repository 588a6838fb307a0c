"""The backup plan: RPO, backups kept, storage estimates, same-minute warnings, and its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from velero_pulumi.config.catalogue import load_catalogue
from velero_pulumi.config.cron import parse_cron
from velero_pulumi.config.plan import GIB, backup_plan
from velero_pulumi.config.problems import Problems

from .cli_config import cli_config
from .harness import PROJECT_DIR, config_error, run_main

SHIPPED = PROJECT_DIR / "config" / "catalogue.yaml"


def plan_of(document: dict, tmp_path: Path):
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    problems = Problems()
    catalogue = load_catalogue(problems, "catalogue", path)
    problems.raise_if_any()
    plan = backup_plan(catalogue)
    return {entry.name: entry for entry in plan.schedules}, plan


@pytest.mark.parametrize(
    ("cron", "ttl_hours", "kept"),
    [
        ("0 */4 * * *", 7 * 24, 42),  # every 4 h, 7 days
        ("0 2 * * *", 30 * 24, 30),  # daily, 30 days
        ("0 */6 * * *", 90 * 24, 360),
        ("0 1 * * 0", 8760, 52),  # weekly, a year
        ("*/30 * * * *", 24, 48),
    ],
)
def test_backups_kept_at_steady_state(cron, ttl_hours, kept):
    assert parse_cron(cron).runs_in(ttl_hours * 60) == kept


def test_the_shipped_plan():
    problems = Problems()
    plan = backup_plan(load_catalogue(problems, "catalogue", SHIPPED))
    by_name = {entry.name: entry for entry in plan.schedules}
    assert (by_name["prometheus-data"].rpo_minutes, by_name["prometheus-data"].kept_backups) == (240, 42)
    assert (by_name["brrtrouter-complete"].rpo_minutes, by_name["brrtrouter-complete"].kept_backups) == (1440, 30)
    assert (by_name["pre-upgrade"].rpo_minutes, by_name["pre-upgrade"].kept_backups) == (None, 0)
    assert by_name["configuration"].services == ()  # no volume data
    assert plan.total_kept_backups == sum(entry.kept_backups for entry in plan.schedules)
    assert plan.warnings == ()


def test_storage_estimate_on_known_inputs(tmp_path):
    document = {
        "services": {"db": {"dataSize": "10Gi", "dailyChange": "10%"}, "cache": {"dataSize": "2Gi", "dailyChange": "50%"}},
        "schedules": {
            "db-daily": {"cron": "0 3 * * *", "ttl": "240h", "services": ["db"]},
            # Weekly at 50 % a day: every backup changes everything, so each costs the full size.
            "cache-weekly": {"cron": "0 4 * * 1", "ttl": "672h", "services": ["cache"]},
        },
    }
    plans, plan = plan_of(document, tmp_path)
    assert plans["db-daily"].kept_backups == 10
    assert plans["db-daily"].estimated_bytes == 10 * GIB * (1 + 10 * 0.1)
    assert plans["cache-weekly"].kept_backups == 4
    assert plans["cache-weekly"].estimated_bytes == 2 * GIB * (1 + 4 * 1)
    assert plan.as_output()["totals"] == {"keptBackups": 14, "estimatedGiB": 30.0}


def test_warns_about_the_same_data_in_the_same_minute(tmp_path):
    document = {
        "services": {"db": {"dataSize": "1Gi", "dailyChange": "5%"}, "web": {}},
        "schedules": {
            "db-4h": {"cron": "0 */4 * * *", "ttl": "168h", "services": ["db"]},
            "db-6h": {"cron": "0 */6 * * *", "ttl": "168h", "services": ["db"]},  # both at 00:00 and 12:00
            "db-6h-late": {"cron": "30 */6 * * *", "ttl": "168h", "services": ["db"]},
            "all-nightly": {"cron": "30 0 * * *", "ttl": "168h"},  # the namespace, with db, at 00:30
            "web-4h": {"cron": "0 */4 * * *", "ttl": "168h", "services": ["web"]},  # no volume data
        },
    }
    _, plan = plan_of(document, tmp_path)
    assert plan.warnings == (
        "db-4h (0 */4 * * *) and db-6h (0 */6 * * *) both back up db in the same minute: stagger one of them",
        "db-6h-late (30 */6 * * *) and all-nightly (30 0 * * *) both back up db in the same minute: stagger one of them",
    )


def test_the_plan_is_a_stack_output():
    outputs = run_main(cli_config("dev")).outputs
    plan = outputs["backupPlan"]
    assert [entry["name"] for entry in plan["schedules"]][:2] == ["brrtrouter-complete", "disaster-recovery"]
    assert plan["totals"]["keptBackups"] == sum(entry["keptBackups"] for entry in plan["schedules"])
    assert plan["warnings"] == []


def test_production_overrides_reach_the_plan():
    plan = run_main(cli_config("prod"), stack="prod").outputs["backupPlan"]
    complete = next(entry for entry in plan["schedules"] if entry["name"] == "brrtrouter-complete")
    assert (complete["retentionHours"], complete["keptBackups"]) == (2160, 90)


def test_plan_prints_as_a_table(tmp_path):
    document = {
        "services": {"db": {"dataSize": "10Gi", "dailyChange": "10%"}},
        "schedules": {
            "db-daily": {"cron": "0 3 * * *", "ttl": "240h", "services": ["db"]},
            "db-again": {"cron": "0 3 * * *", "ttl": "48h", "services": ["db"]},
            "template": {"cron": "0 0 1 1 *", "ttl": "2160h", "paused": True},
        },
    }
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "plan.py"), "--catalogue", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["schedule", "cron", "RPO", "retention", "kept", "volume", "data", "est.", "storage"]
    assert lines[2].split() == ["db-daily", "0", "3", "*", "*", "*", "24h", "10d", "10", "db", "20.00", "GiB"]
    assert lines[4].split() == ["template", "0", "0", "1", "1", "*", "(paused)", "-", "90d", "0", "db", "0.00", "GiB"]
    assert lines[6].split() == ["total", "12", "32.00", "GiB"]
    assert lines[-1] == "  - db-daily (0 3 * * *) and db-again (0 3 * * *) both back up db in the same minute: stagger one of them"


@pytest.mark.parametrize("change", ["150%", "fast", "0.2"])
def test_a_bad_daily_change_is_a_config_error(tmp_path, change):
    document = yaml.safe_load(SHIPPED.read_text())
    document["services"]["loki"]["dailyChange"] = change
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    message = config_error(cli_config("dev", {"catalogue": str(path)}))
    assert f"services.loki.dailyChange = {change!r}: expected a percentage" in message
