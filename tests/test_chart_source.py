"""veleroChart: the chart from a repository, an OCI registry, a local directory or a packaged .tgz."""

from __future__ import annotations

import io
import os
import shutil
import tarfile

import pytest

from .fixtures import CHART_REPOSITORY, packaged_chart
from .schemas import chart_dir
from .harness import PROJECT_DIR, config_error
from .cli_config import cli_config
from .stacks import run_stack

CHART = "kubernetes:helm.sh/v4:Chart"
KEY = "brrtrouter-backup:"


CHART_YAML = b"apiVersion: v2\nname: velero\nversion: 12.1.0\nappVersion: 1.18.1\n"


@pytest.fixture(scope="module")
def local_charts(tmp_path_factory):
    """A chart directory and its package, as `helm pull --untar` and `helm pull` leave them (the
    chart's metadata and its CRDs)."""
    folder = tmp_path_factory.mktemp("charts")
    (folder / "velero").mkdir()
    (folder / "velero" / "Chart.yaml").write_bytes(CHART_YAML)
    shutil.copytree(chart_dir() / "crds", folder / "velero" / "crds")
    (folder / "velero-12.1.0.tgz").write_bytes(packaged_chart(folder / "velero"))
    return folder


def chart_inputs(**overrides):
    return run_stack("dev", **overrides).one(CHART).values


def error(**overrides) -> str:
    return config_error(cli_config("dev", overrides))


def test_default_is_the_official_repository_at_the_pinned_version():
    chart = chart_inputs()
    assert (chart["chart"], chart["version"], chart["repositoryOpts"]) == ("velero", "12.1.0", {"repo": CHART_REPOSITORY})


@pytest.mark.parametrize("name", ["velero", "velero-12.1.0.tgz"], ids=["directory", "tgz"])
def test_a_local_chart_is_used_as_it_is_without_repository_or_version(local_charts, name):
    path = local_charts / name
    chart = chart_inputs(veleroChart=str(path))
    assert chart["chart"] == str(path)
    assert "version" not in chart and "repositoryOpts" not in chart


def test_a_relative_local_chart_keeps_its_relative_path(local_charts):
    # Relative to the project, as written: the same state on every machine that checks it out.
    relative = os.path.relpath(local_charts / "velero", PROJECT_DIR)
    chart = chart_inputs(veleroChart=relative, veleroChartVersion="")
    assert chart["chart"] == relative


def test_an_oci_reference_is_the_chart_itself_at_the_version():
    chart = chart_inputs(veleroChart="oci://registry.example.com/charts/velero")
    assert (chart["chart"], chart["version"]) == ("oci://registry.example.com/charts/velero", "12.1.0")
    assert "repositoryOpts" not in chart


def test_a_version_other_than_the_local_charts_is_an_error(local_charts):
    message = error(veleroChart=str(local_charts / "velero"), veleroChartVersion="12.0.0")
    assert f"{KEY}veleroChartVersion = '12.0.0': expected no value with a local chart" in message
    assert "is version 12.1.0" in message


def test_a_local_chart_that_is_not_velero_is_an_error(tmp_path):
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: nginx\nversion: 1.0.0\n")
    assert f"{KEY}veleroChart = '{tmp_path}': expected the chart velero (this one is named 'nginx')" in error(
        veleroChart=str(tmp_path), veleroChartVersion="")


def test_a_package_without_chart_yaml_is_an_error(tmp_path):
    package = tmp_path / "velero-12.1.0.tgz"
    with tarfile.open(package, "w:gz") as archive:
        info = tarfile.TarInfo("velero/values.yaml")
        archive.addfile(info, io.BytesIO(b""))
    assert "holds no <chart>/Chart.yaml" in error(veleroChart=str(package))


def test_a_repository_or_registry_needs_a_version():
    for chart in (CHART_REPOSITORY, "oci://registry.example.com/charts/velero"):
        assert f"{KEY}veleroChartVersion = '': expected a chart version such as 12.1.0 (required with" in error(
            veleroChart=chart, veleroChartVersion="")


def test_the_crds_come_from_the_chart_whatever_its_source(local_charts):
    from .fixtures import CHART_CRDS, OCI_CHART

    names = sorted(crd["metadata"]["name"] for crd in CHART_CRDS)
    for overrides in ({}, {"veleroChart": OCI_CHART}, {"veleroChart": str(local_charts / "velero")},
                      {"veleroChart": str(local_charts / "velero-12.1.0.tgz")}):
        crds = run_stack("dev", **overrides).of_type("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
        assert sorted(r.values["metadata"]["name"] for r in crds) == names, overrides


def test_a_package_that_does_not_match_the_index_digest_is_refused(monkeypatch):
    from velero_pulumi.config import chart_files

    from . import fixtures

    def tampered(url, headers=None):
        answer = fixtures.stand_in_chart_repository(url, headers)
        return chart_files.Response(200, {}, answer.body + b"\0") if url == fixtures.CHART_PACKAGE_URL else answer

    monkeypatch.setattr(chart_files, "http_get", tampered)
    assert f"{KEY}veleroChart = '{CHART_REPOSITORY}': expected a package that matches the index's digest" in error()


def test_a_registry_that_asks_for_a_login_is_named(monkeypatch):
    from velero_pulumi.config import chart_files

    from . import fixtures

    def private(url, headers=None):
        if url.startswith(f"{fixtures.REGISTRY}/token"):
            return chart_files.Response(401)
        return fixtures.stand_in_chart_repository(url, headers)

    monkeypatch.setattr(chart_files, "http_get", private)
    message = error(veleroChart=fixtures.OCI_CHART)
    assert f"{KEY}veleroChart = '{fixtures.OCI_CHART}': expected a chart the program may read without credentials" in message
    assert "set veleroChart to the .tgz" in message


def test_a_chart_without_crds_is_refused(tmp_path):
    (tmp_path / "velero").mkdir()
    (tmp_path / "velero" / "Chart.yaml").write_bytes(CHART_YAML)
    assert "expected a chart whose crds/ holds Velero's CustomResourceDefinitions (it holds none)" in error(
        veleroChart=str(tmp_path / "velero"), veleroChartVersion="")
