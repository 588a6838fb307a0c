"""The package's parts (Install, StorageLocation, BackupSchedule, Alerts) under mocks: composed as
a program composes them, they make what Backups makes for the same inputs; each refuses bad input
before it registers anything; their schema."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from velero_pulumi.config import ConfigError
from velero_pulumi.package import (Alerts, BackupSchedule, BackupsArgs, Install, StorageLocation,
                                   inputs as package_inputs)
from velero_pulumi.package.schema import package_schema

from .harness import run
from .test_package_provider import (error_before_anything_is_registered, kubernetes_objects, onprem_catalogue,
                                    onprem_inputs, run_component)

PARTS = {"Install": package_inputs.InstallArgs, "StorageLocation": package_inputs.StorageLocationArgs,
         "BackupSchedule": package_inputs.BackupScheduleArgs, "Alerts": package_inputs.AlertsArgs}
SHARED = ("name_prefix", "app_namespace", "namespace")


def composed(inputs: dict, with_provider: bool = True) -> None:
    """onprem_inputs() as a program composes the parts: one kubernetes provider in every part's
    resource options, each output handed to the part that needs it."""
    opts = pulumi.ResourceOptions(provider=k8s.Provider("cluster", context=inputs["kube_context"])) \
        if with_provider else None
    common = {key: inputs[key] for key in ("name_prefix", "app_namespace") if key in inputs}
    install = Install("install", {**common, "backend": inputs["backend"], "rbac": inputs["rbac"],
                                  "repository_password": inputs["repository_password"]}, opts)
    location = StorageLocation("location", {"name_prefix": inputs["name_prefix"], "backend": inputs["backend"],
                                            "credentials_secret": install.credentials_secret,
                                            "location_available_timeout": inputs["location_available_timeout"]}, opts)
    catalogue = inputs["catalogue"]
    for name, schedule in catalogue["schedules"].items():
        hooks = {hook: catalogue["hooks"][hook] for hook in schedule.get("hooks", [])}
        BackupSchedule(f"schedule-{name}", {**common, "name": name, "schedule": schedule, "hooks": hooks,
                                            "storage_location": location.location_name}, opts)
    Alerts("alerts", {**common, "catalogue": catalogue}, opts)


def objects(program_run) -> dict:
    """The kubernetes objects, without the providers (Backups makes its own from kubeContext)."""
    return {key: value for key, value in kubernetes_objects(program_run).items() if key[0] != "pulumi:providers:kubernetes"}


def test_the_parts_composed_make_what_backups_makes_for_the_same_inputs():
    backups = run_component(onprem_inputs())
    parts = run(lambda: composed(onprem_inputs()), stack="prod-onprem")
    assert objects(parts) == objects(backups)
    # Every object is in the cluster of the resource options' provider, and belongs to its part.
    [provider] = parts.of_type("pulumi:providers:kubernetes")
    made = [r for r in parts.registrations if r.type.startswith("kubernetes:")]
    assert made and all(r.provider.startswith(provider.urn) for r in made)
    tops = {r.urn for r in parts.registrations if r.type.startswith("velero:index:")}
    assert {r.type for r in parts.registrations if r.urn in tops} == {f"velero:index:{part}" for part in PARTS}
    assert all(r.parent for r in made)


def test_the_location_uses_the_installs_secret_and_each_schedule_the_locations_name():
    parts = run(lambda: composed(onprem_inputs()), stack="prod-onprem")
    location = parts.one("kubernetes:velero.io/v1:BackupStorageLocation")
    assert location.values["spec"]["credential"] == {"name": "velero-credentials", "key": "cloud"}
    assert {r.values["spec"]["template"]["storageLocation"] for r in parts.of_type("kubernetes:velero.io/v1:Schedule")} == {"default"}
    installs = [r for r in parts.registrations if r.type == "velero:index:Install"]
    assert parts.registered_outputs[installs[0].urn] == {"namespace": "velero", "credentialsSecret": "velero-credentials"}


def test_install_with_a_kube_context_makes_its_providers_and_adopts_kept_crds():
    inputs = onprem_inputs()
    result = run(lambda: Install("install", {"backend": inputs["backend"], "kube_context": "prod",
                                             "repository_password": inputs["repository_password"]}),
                 stack="prod-onprem")
    providers = {r.name: r.values for r in result.of_type("pulumi:providers:kubernetes")}
    assert providers["cluster"]["context"] == "prod"
    assert providers["cluster-chart"]["upsertExistingObjects"] == "true"
    assert not result.of_type("kubernetes:velero.io/v1:BackupStorageLocation")
    assert not result.of_type("kubernetes:velero.io/v1:Schedule")


def test_the_password_stays_a_secret_in_the_install():
    inputs = onprem_inputs()
    result = run(lambda: Install("install", {"backend": inputs["backend"],
                                             "repository_password": inputs["repository_password"]}),
                 stack="prod-onprem")
    password = next(r for r in result.of_type("kubernetes:core/v1:Secret")
                    if r.values["metadata"]["name"] == "velero-repo-credentials")
    assert password.secret("stringData")


def test_a_schedule_checks_its_hooks_and_services_as_the_catalogue_does():
    catalogue = onprem_catalogue()
    name = next(name for name, schedule in catalogue["schedules"].items() if schedule.get("hooks"))
    schedule = catalogue["schedules"][name]
    result = run(lambda: BackupSchedule("s", {"name": name, "schedule": schedule, "hooks": {}}),
                 stack="prod-onprem", expect_error=True)
    assert result.registrations == [] and isinstance(result.error, ConfigError)
    assert f"schedule schedules.{name}.hooks" in str(result.error)
    made = run(lambda: BackupSchedule("s", {"name": name, "schedule": schedule, "hooks": catalogue["hooks"]}),
               stack="prod-onprem")
    spec = made.one("kubernetes:velero.io/v1:Schedule").values["spec"]
    assert spec["template"]["hooks"]["resources"], spec


@pytest.mark.parametrize("make, named", [
    (lambda: Install("i", {"backend": onprem_inputs()["backend"]}), "repositoryPassword = None: expected a value"),
    (lambda: Install("i", {**onprem_inputs(), "catalogue": None}), "catalogue = None: no such key"),
    (lambda: StorageLocation("l", {"backend": onprem_inputs()["backend"], "credentials_secret": "Not_A_Name"}),
     "credentialsSecret = 'Not_A_Name': expected a non-empty lower-case DNS label"),
    (lambda: StorageLocation("l", {"backend": {"kind": "aws", "bucket": "b-1"}}),
     "backend.awsRegion = '': expected"),
    (lambda: StorageLocation("l", {"backend": onprem_inputs()["backend"], "location_validation_frequency": "0s"}),
     "locationValidationFrequency = '0s': expected a Go duration above 0"),
    (lambda: BackupSchedule("s", {"name": "nightly", "schedule": {"cron": "0 2 * *", "ttl": "720h"}}),
     "schedule schedules.nightly.cron = '0 2 * *'"),
    (lambda: BackupSchedule("s", {"schedule": {"cron": "0 2 * * *", "ttl": "720h"}}),
     "name = None: expected the Schedule's name"),
    (lambda: BackupSchedule("s", {"name": "nightly", "schedule": {"cron": "0 2 * * *", "ttl": "720h"},
                                  "parallel_files_upload": 1000}), "parallelFilesUpload = '1000'"),
    (lambda: Alerts("a", {"catalogue": onprem_catalogue(), "monitoring": "grafana"}),
     "monitoring = 'grafana': expected annotations or prometheusOperator"),
    (lambda: Alerts("a", {"catalogue": onprem_catalogue(), "backend": {}}), "backend = {}: no such key"),
])
def test_a_bad_input_to_a_part_is_named_before_anything_is_registered(make, named):
    assert named in error_before_anything_is_registered(make)


def test_a_location_name_from_an_output_is_checked_when_it_is_known():
    result = run(lambda: BackupSchedule("s", {"name": "nightly", "schedule": {"cron": "0 2 * * *", "ttl": "720h"},
                                              "storage_location": pulumi.Output.from_input("Not_A_Name")}),
                 stack="prod-onprem", expect_error=True)
    assert "storageLocation = 'Not_A_Name': expected a non-empty lower-case DNS label" in str(result.error)


def test_the_schema_offers_backups_and_its_four_parts():
    resources = package_schema()["resources"]
    assert list(resources) == ["velero:index:Backups", *(f"velero:index:{part}" for part in PARTS)]
    assert set(resources["velero:index:Install"]["requiredInputs"]) == {"backend", "repositoryPassword"}
    assert set(resources["velero:index:BackupSchedule"]["requiredInputs"]) == {"name", "schedule"}
    # What one part hands another may be an output: not plain.
    assert "plain" not in resources["velero:index:StorageLocation"]["inputProperties"]["credentialsSecret"]
    assert "plain" not in resources["velero:index:BackupSchedule"]["inputProperties"]["storageLocation"]
    assert set(resources["velero:index:Install"]["properties"]) == {"namespace", "credentialsSecret"}


def test_an_input_a_part_shares_with_backups_is_the_same_input():
    # The analyzer reads descriptions from each class's own source, so the parts declare them again.
    resources = package_schema()["resources"]
    backups = resources["velero:index:Backups"]["inputProperties"]
    for part in PARTS:
        for name, prop in resources[f"velero:index:{part}"]["inputProperties"].items():
            if name in backups:
                assert prop == backups[name], (part, name)
    assert set(SHARED) <= set(BackupsArgs.__annotations__)


def test_the_parts_that_do_not_install_velero_never_ask_for_the_chart(monkeypatch):
    # Reading the chart asks its repository for an index; only the Install installs it.
    from velero_pulumi.config import chart_files

    def no_network(url, headers):
        raise OSError(f"no network in this test: {url}")

    monkeypatch.setattr(chart_files, "http_get", no_network)
    inputs = onprem_inputs()
    result = run(lambda: (StorageLocation("l", {"backend": inputs["backend"]}),
                          BackupSchedule("s", {"name": "nightly", "schedule": {"cron": "0 2 * * *", "ttl": "720h"}}),
                          Alerts("a", {"catalogue": onprem_catalogue()})), stack="prod-onprem")
    assert result.one("kubernetes:velero.io/v1:BackupStorageLocation")
    failed = run(lambda: Install("i", {"backend": onprem_inputs()["backend"], "repository_password": "x" * 20}),
                 stack="prod-onprem", expect_error=True)
    assert "chart = 'https://vmware-tanzu.github.io/helm-charts': expected a Helm repository this machine can reach" \
        in str(failed.error)
