"""veleroChart: the chart from a repository, an OCI registry, a local directory or a packaged .tgz."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from .fixtures import CHART_REPOSITORY
from .harness import PROJECT_DIR, config_error
from .cli_config import cli_config
from .stacks import run_stack

CHART = "kubernetes:helm.sh/v4:Chart"
KEY = "brrtrouter-backup:"


CHART_YAML = b"apiVersion: v2\nname: velero\nversion: 12.1.0\nappVersion: 1.18.1\n"


@pytest.fixture(scope="module")
def local_charts(tmp_path_factory):
    """A chart directory and its package, as `helm pull --untar` and `helm pull` leave them."""
    folder = tmp_path_factory.mktemp("charts")
    (folder / "velero").mkdir()
    (folder / "velero" / "Chart.yaml").write_bytes(CHART_YAML)
    with tarfile.open(folder / "velero-12.1.0.tgz", "w:gz") as archive:
        info = tarfile.TarInfo("velero/Chart.yaml")
        info.size = len(CHART_YAML)
        archive.addfile(info, io.BytesIO(CHART_YAML))
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
