"""The catalogue: the seed's schedules as data, cron arithmetic, and its rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from velero_pulumi.config.catalogue import go_duration_seconds, load_catalogue
from velero_pulumi.config.cron import CronError, parse_cron
from velero_pulumi.config.problems import Problems

from .cli_config import cli_config
from .harness import PROJECT_DIR, config_error, run_main

SHIPPED = PROJECT_DIR / "config" / "catalogue.yaml"

# DESIGN §2: name -> (cron, TTL in hours, longest gap in minutes, paused)
SEED_SCHEDULES = {
    "brrtrouter-complete": ("0 2 * * *", 720, 1440, False),
    "disaster-recovery": ("0 1 * * 0", 8760, 10080, False),
    "configuration": ("0 4 * * 0", 4320, 10080, False),
    "prometheus-data": ("0 */4 * * *", 168, 240, False),
    "loki-logs": ("0 */12 * * *", 336, 720, False),
    "grafana-dashboards": ("30 3 * * *", 2160, 1440, False),
    "jaeger-traces": ("0 */8 * * *", 168, 480, False),
    "postgres-database": ("0 */6 * * *", 2160, 360, False),
    "redis-cache": ("0 */4 * * *", 168, 240, False),
    "petstore-app": ("45 3 * * *", 720, 1440, False),
    "observability-stack": ("30 */6 * * *", 168, 360, False),
    "pre-upgrade": ("0 0 1 1 *", 2160, 527040, True),
}


def shipped():
    problems = Problems()
    catalogue = load_catalogue(problems, "catalogue", SHIPPED)
    assert len(problems) == 0
    return catalogue


def test_the_shipped_catalogue_is_the_seed_schedule_table():
    schedules = {
        s.name: (s.cron, s.ttl_seconds / 3600, s.longest_gap_minutes, s.paused) for s in shipped().schedules
    }
    assert schedules == SEED_SCHEDULES


def test_the_shipped_catalogue_scopes():
    by_name = {s.name: s for s in shipped().schedules}
    assert by_name["configuration"].resources == ("configmaps", "secrets")
    assert not by_name["configuration"].volume_data
    assert by_name["disaster-recovery"].cluster_resources is True
    assert by_name["observability-stack"].services == ("prometheus", "loki", "grafana", "jaeger")
    assert by_name["postgres-database"].hooks == ("postgres-dump", "postgres-prune-dumps")
    assert by_name["redis-cache"].hooks == ("redis-bgsave",)
    assert set(by_name["brrtrouter-complete"].hooks) == {"postgres-dump", "postgres-prune-dumps", "redis-bgsave"}


@pytest.mark.parametrize(
    ("expression", "gap"),
    [
        ("*/15 * * * *", 15),
        ("0 */4 * * *", 240),
        ("30 3 * * *", 1440),
        ("0 1 * * 0", 10080),
        ("0 1 * * 7", 10080),
        ("0 1 * * sun", 10080),
        ("*/15 9-17 * * 1-5", 2 * 1440 + 15 * 60 + 15),  # Friday 17:45 to Monday 09:00
        ("0 0 1,15 * *", 17 * 1440),  # the 15th to the 1st of a 31-day month
        ("0 0 1 1 *", 366 * 1440),
        ("0 0 13 * 5", 7 * 1440),  # Fridays or the 13th: day of month and week are OR-ed
    ],
)
def test_longest_gap_between_runs(expression, gap):
    assert parse_cron(expression).longest_gap_minutes() == gap


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 2 * *", "4 fields"),
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("0 24 * * *", "hour: 24 is outside 0-23"),
        ("0 0 * * 8", "day of week: 8 is outside 0-7"),
        ("0 0 5-1 * *", "runs backwards"),
        ("*/0 * * * *", "step '0'"),
        ("@daily * * * *", "not a number"),
        (["0", "2", "*", "*", "*"], "not a string"),
    ],
)
def test_bad_cron_expressions(expression, message):
    with pytest.raises(CronError, match=message):
        parse_cron(expression)


def test_go_durations():
    assert go_duration_seconds("720h") == 720 * 3600
    assert go_duration_seconds("720h0m0s") == 720 * 3600
    assert go_duration_seconds("1h30m") == 5400


def catalogue_with(tmp_path: Path, change) -> str:
    document = yaml.safe_load(SHIPPED.read_text())
    change(document)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def catalogue_error(catalogue_path: str) -> str:
    return config_error(cli_config("dev", {"catalogue": catalogue_path}))


def set_schedule(name, **fields):
    def change(document):
        document["schedules"][name].update(fields)

    return change


def set_hook(name, **fields):
    def change(document):
        document["hooks"][name].update(fields)

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (set_schedule("prometheus-data", cron="0 */4 * *"), "schedules.prometheus-data.cron = '0 */4 * *': expected a five-field cron"),
        (set_schedule("prometheus-data", cron="0 25 * * *"), "hour: 25 is outside 0-23"),
        (set_schedule("prometheus-data", cron="0 0 30 2 *"), "a schedule that runs at least twice"),
        (set_schedule("prometheus-data", ttl="7d"), "schedules.prometheus-data.ttl = '7d': expected a positive Go duration"),
        (set_schedule("prometheus-data", ttl=168), "schedules.prometheus-data.ttl = 168: expected a positive Go duration"),
        (set_schedule("prometheus-data", services=["prometheus", "mimir"]), "schedules.prometheus-data.services = 'mimir': expected a service of the catalogue"),
        (set_schedule("prometheus-data", services="prometheus"), "schedules.prometheus-data.services = 'prometheus': expected a list of service names"),
        (set_schedule("prometheus-data", hooks=["pg-dump"]), "schedules.prometheus-data.hooks = 'pg-dump': expected a hook of the catalogue"),
        (set_schedule("prometheus-data", hooks=["redis-bgsave"]), "expected a hook on a service this schedule backs up (its service redis"),
        (set_schedule("redis-cache", resources=["deployments", "persistentvolumeclaims"]), "schedules.redis-cache.resources = ['deployments', 'persistentvolumeclaims']: expected pods among the resources"),
        (set_schedule("configuration", volumeData=True), "schedules.configuration.resources = ['configmaps', 'secrets']: expected pods among the resources"),
        (set_schedule("prometheus-data", paused="no"), "schedules.prometheus-data.paused = 'no': expected true or false"),
        (set_schedule("prometheus-data", retention="7d"), "schedules.prometheus-data.retention = '7d': no such key"),
        (set_hook("postgres-dump", container=None), "hooks.postgres-dump.container = None: expected the name of the container"),
        (set_hook("postgres-dump", service="mysql"), "hooks.postgres-dump.service = 'mysql': expected a service of the catalogue"),
        (set_hook("postgres-dump", phase="before"), "hooks.postgres-dump.phase = 'before': expected pre"),
        (set_hook("postgres-dump", command="pg_dump"), "hooks.postgres-dump.command = 'pg_dump': expected a non-empty list"),
        (set_hook("postgres-dump", timeout="ten minutes"), "hooks.postgres-dump.timeout = 'ten minutes': expected a Go duration"),
        (set_hook("postgres-dump", onError="Ignore"), "hooks.postgres-dump.onError = 'Ignore': expected Continue or Fail"),
    ],
    ids=[
        "cron-4-fields", "cron-hour-25", "cron-never", "ttl-days", "ttl-number", "unknown-service",
        "services-not-a-list", "unknown-hook", "hook-out-of-scope", "hooks-without-pods",
        "volume-data-without-pods", "paused-not-bool", "unknown-schedule-field", "hook-without-container",
        "hook-unknown-service", "hook-bad-phase", "hook-command-string", "hook-bad-timeout", "hook-bad-on-error",
    ],
)
def test_catalogue_mistakes_are_clear_errors_before_any_resource(tmp_path, change, expected):
    assert expected in catalogue_error(catalogue_with(tmp_path, change))


def test_duplicate_schedule_names_are_an_error(tmp_path):
    text = SHIPPED.read_text() + "  redis-cache:\n    cron: \"0 * * * *\"\n    ttl: 24h\n"
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    assert "duplicate key 'redis-cache'" in catalogue_error(str(path))


def test_adding_a_service_and_its_schedule_is_config_only(tmp_path):
    def add(document):
        document["services"]["tempo"] = {"volumeSize": "3Gi", "component": "observability"}
        document["schedules"]["tempo-traces"] = {"cron": "15 */2 * * *", "ttl": "72h", "services": ["tempo"]}

    run = run_main(cli_config("dev", {"catalogue": catalogue_with(tmp_path, add)}))
    names = {r.values["metadata"]["name"] for r in run.of_type("kubernetes:velero.io/v1:Schedule")}
    assert "tempo-traces" in names
    assert "brrtrouter-tempo-data" in {r.values["name"] for r in run.of_type("docker:index/volume:Volume")}
    assert "tempo-storage" in {r.values["metadata"]["name"] for r in run.of_type("kubernetes:core/v1:PersistentVolumeClaim")}
