"""veleroChart: the chart from a repository, an OCI registry, a local directory or a packaged .tgz."""

from __future__ import annotations

import io
import tarfile

import pytest

from policy import backup_policies as rules

from .fixtures import CHART_REPOSITORY, SHARED_CHARTS
from .harness import config_error
from .cli_config import cli_config
from .stacks import run_stack

CHART = "kubernetes:helm.sh/v4:Chart"
KEY = "brrtrouter-backup:"


def chart_inputs(**overrides):
    return run_stack("dev", **overrides).one(CHART).values


def error(**overrides) -> str:
    return config_error(cli_config("dev", overrides))


def test_default_is_the_official_repository_at_the_pinned_version():
    chart = chart_inputs()
    assert (chart["chart"], chart["version"], chart["repositoryOpts"]) == ("velero", "12.1.0", {"repo": CHART_REPOSITORY})


@pytest.mark.parametrize("path", [SHARED_CHARTS / "velero", SHARED_CHARTS / "velero-12.1.0.tgz"], ids=["directory", "tgz"])
def test_a_local_chart_is_used_as_it_is_without_repository_or_version(path):
    chart = chart_inputs(veleroChart=str(path))
    assert chart["chart"] == str(path)
    assert "version" not in chart and "repositoryOpts" not in chart


def test_a_relative_local_chart_keeps_its_relative_path():
    # Relative to the project, as written: the same state on every machine that checks it out.
    chart = chart_inputs(veleroChart="../shared/charts/velero", veleroChartVersion="")
    assert chart["chart"] == "../shared/charts/velero"


def test_an_oci_reference_is_the_chart_itself_at_the_version():
    chart = chart_inputs(veleroChart="oci://registry.example.com/charts/velero")
    assert (chart["chart"], chart["version"]) == ("oci://registry.example.com/charts/velero", "12.1.0")
    assert "repositoryOpts" not in chart


def test_a_version_other_than_the_local_charts_is_an_error():
    message = error(veleroChart=str(SHARED_CHARTS / "velero"), veleroChartVersion="12.0.0")
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


def test_the_plugin_policy_knows_the_chart_in_every_form():
    for reference in ("velero", str(SHARED_CHARTS / "velero"), "../charts/velero-12.1.0.tgz",
                      "oci://registry.example.com/charts/velero"):
        chart = {"chart": reference, "values": {"image": {"repository": "velero/velero", "tag": "v1.18.1"},
                                                "initContainers": [{"image": "velero/velero-plugin-for-aws:v1.12.0"}]}}
        assert rules.chart_plugin_violations(chart), reference
    assert rules.chart_plugin_violations({"chart": "nginx", "values": {}}) == []
