"""Every object the dev stack sends to Kubernetes is one the API server accepts.

Velero objects against the official v1.18 CRDs (structural: unknown fields fail); core objects
against the strict Kubernetes schemas of the node image's version.
"""

from __future__ import annotations

import copy

import pytest

from .cli_config import cli_config
from .harness import plain
from .schemas import CRDS_DIR, core_errors, crd_errors, crd_kinds, manifest

CORE_TYPES = {
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:NamespacePatch",  # a server-side apply of a Namespace: the same schema
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",  # Velero's, read from the chart
}


@pytest.fixture(scope="module")
def dev_objects(dev):
    node_image = cli_config("dev")["brrtrouter-backup:kindNodeImage"]
    return dev, node_image.split(":", 1)[1].split("@")[0].lstrip("v")


def velero_objects(run):
    return [manifest(plain(r.inputs)) for r in run.registrations if r.type.startswith("kubernetes:velero.io/")]


def test_the_official_crds_are_there():
    assert CRDS_DIR.is_dir(), f"{CRDS_DIR} is missing: scripts/fetch-velero-crds gets it"
    assert {("velero.io/v1", "Schedule"), ("velero.io/v1", "BackupStorageLocation")} <= crd_kinds()
    assert len(crd_kinds()) == 13


def test_every_velero_object_matches_its_crd(dev_objects):
    run, _ = dev_objects
    objects = velero_objects(run)
    assert len(objects) == 13
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {
        ("velero.io/v1", "Schedule"),
        ("velero.io/v1", "BackupStorageLocation"),
    }
    assert {o["metadata"]["name"]: crd_errors(o) for o in objects} == {o["metadata"]["name"]: [] for o in objects}


def test_every_core_object_matches_the_kubernetes_schema(dev_objects):
    run, version = dev_objects
    assert version == "1.34.0"
    objects = [(r.name, manifest(plain(r.inputs))) for r in run.registrations if r.type in CORE_TYPES]
    assert len(objects) == 16 + 13
    assert {name: core_errors(obj, version) for name, obj in objects} == {name: [] for name, _ in objects}


def schedule_of(run):
    return next(o for o in velero_objects(run) if o["kind"] == "Schedule")


def test_an_unknown_field_fails_the_crd_check(dev_objects):
    schedule = copy.deepcopy(schedule_of(dev_objects[0]))
    schedule["spec"]["template"]["includedNamespace"] = ["typo"]
    assert any("includedNamespace" in error for error in crd_errors(schedule))


def test_a_wrong_type_fails_the_crd_check(dev_objects):
    schedule = copy.deepcopy(schedule_of(dev_objects[0]))
    schedule["spec"]["template"]["defaultVolumesToFsBackup"] = "yes"
    assert crd_errors(schedule)
    del schedule["spec"]["schedule"]
    assert any("'schedule' is a required property" in error for error in crd_errors(schedule))


def test_an_unknown_field_fails_the_core_check(dev_objects):
    run, version = dev_objects
    pv = manifest(plain(next(r.inputs for r in run.registrations if r.type == "kubernetes:core/v1:PersistentVolume")))
    pv["spec"]["localPath"] = "/mnt/x"
    assert core_errors(pv, version)


def test_the_official_chart_is_there():
    from .schemas import chart_dir

    assert (chart_dir() / "values.schema.json").is_file(), f"{chart_dir()} is missing: the official chart 12.1.0"


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-gcp", "prod-azure", "prod-onprem"])
def test_the_chart_values_of_every_stack_are_valid_for_the_official_chart(stack):
    from .schemas import chart_values_errors
    from .stacks import run_stack

    values = plain(run_stack(stack).one("kubernetes:helm.sh/v4:Chart").inputs)["values"]
    assert chart_values_errors(values) == []


def test_a_wrong_chart_value_is_caught():
    from .schemas import chart_values_errors

    assert any("deployNodeAgent" in error for error in chart_values_errors({"deployNodeAgent": "yes"}))
    assert chart_values_errors({"deployNodeAgents": True}) == ["deployNodeAgents: not a value of the chart"]
