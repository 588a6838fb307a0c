"""Where the Velero chart comes from: a Helm repository, an OCI registry, or a local copy.

Air-gapped clusters cannot reach the chart repository, so `veleroChart` takes any of:

- an https:// Helm repository that holds the chart `velero` (the default, vmware-tanzu's);
- an oci:// reference to the chart itself, e.g. oci://registry.example.com/charts/velero;
- a local chart directory, or a packaged chart (.tgz), relative to the project or absolute.

A repository is asked for its index before any resource is registered, so an unreachable one,
or one without the pinned version, is a configuration error that names the key instead of a
provider error halfway through `pulumi up`. A local chart must be Velero's, and its version is
the chart's own: `veleroChartVersion` may only repeat it (or be empty).

Wherever it comes from, the program reads the chart's CustomResourceDefinitions itself
(chart_files.py) and installs them as resources of their own, before the chart.
"""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import yaml

from . import chart_files
from .chart_files import ChartUnreadable
from .problems import Problems
from .values import SEMVER

CHART_NAME = "velero"
HTTPS_REPOSITORY = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?$")
OCI_REFERENCE = re.compile(r"^oci://[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$")


@dataclass(frozen=True)
class ChartSource:
    """The chart as helm.v4.Chart takes it."""

    kind: str  # "repository", "oci" or "local"
    # Repository URL, OCI reference, or the local chart's path as configured.
    location: str
    version: Optional[str]
    # The chart's crds/, as the program read them.
    crds: tuple[Mapping[str, Any], ...] = ()

    @property
    def chart(self) -> str:
        """helm.v4.Chart's `chart`: the name in a repository, else the reference or path."""
        return CHART_NAME if self.kind == "repository" else self.location

    @property
    def repository(self) -> Optional[str]:
        return self.location if self.kind == "repository" else None


def read_chart_source(
    problems: Problems, chart_key: str, chart: Any, version_key: str, version: Any, project_dir: Optional[Path]
) -> Optional[ChartSource]:
    """The chart to install; project_dir: what a relative local path is relative to (None: no
    folder, so a local chart must be given by its absolute path)."""
    if not isinstance(chart, str) or not chart.strip():
        problems.add(chart_key, chart, _EXPECTED)
        return None
    if version is not None and not isinstance(version, str):
        problems.add(version_key, version, "a chart version such as 12.1.0")
        return None
    version = version or None
    if chart.startswith("http://"):
        problems.add(chart_key, chart, "an https:// URL of a Helm repository (plain http is not accepted)")
        return None
    if chart.startswith(("https://", "oci://")):
        if version is None or not SEMVER.match(version):
            problems.add(version_key, version or "", f"a chart version such as 12.1.0 (required with {chart_key} {chart})")
            return None
        if chart.startswith("oci://"):
            if not OCI_REFERENCE.match(chart):
                problems.add(chart_key, chart, "an oci:// reference to the chart, e.g. oci://registry.example.com/charts/velero")
                return None
            return _with_crds(problems, chart_key, ChartSource("oci", chart, version),
                              lambda: chart_files.crds_of_package(chart_files.oci_package(chart, version)))
        if not HTTPS_REPOSITORY.match(chart):
            problems.add(chart_key, chart, "an https:// URL of a Helm repository")
            return None
        return _checked_repository(problems, chart_key, chart, version_key, version)
    return _local_chart(problems, chart_key, chart, version_key, version, project_dir)


_EXPECTED = ("an https:// Helm repository, an oci:// chart reference, or the path of a local chart "
             "directory or .tgz")


def _checked_repository(
    problems: Problems, chart_key: str, url: str, version_key: str, version: str
) -> Optional[ChartSource]:
    index_url = url.rstrip("/") + "/index.yaml"
    try:
        index = yaml.safe_load(chart_files.fetch(index_url)) or {}
    except (OSError, ChartUnreadable) as error:
        reason = getattr(error, "reason", error)
        problems.add(
            chart_key, url,
            f"a Helm repository this machine can reach (GET {index_url} failed: {reason}); without network, "
            f"set {chart_key} to a local chart directory or .tgz",
        )
        return None
    except yaml.YAMLError:
        problems.add(chart_key, url, f"a Helm repository ({index_url} is not a repository index)")
        return None
    entries = (index.get("entries") or {}).get(CHART_NAME) if isinstance(index, dict) else None
    if not entries:
        problems.add(chart_key, url, f"a Helm repository that holds the chart {CHART_NAME}")
        return None
    by_version = {str(entry.get("version")): entry for entry in entries if isinstance(entry, dict)}
    if version not in by_version:
        problems.add(version_key, version, f"a version of the chart {CHART_NAME} in {url} (it has {', '.join(list(by_version)[:5])} ...)")
        return None
    return _with_crds(problems, chart_key, ChartSource("repository", url, version),
                      lambda: chart_files.crds_of_package(chart_files.repository_package(url, by_version[version])))


def _with_crds(
    problems: Problems, chart_key: str, source: ChartSource, read: Callable[[], tuple[Mapping[str, Any], ...]]
) -> Optional[ChartSource]:
    """The source with the CRDs `read()` returns, or None and a problem naming the key."""
    try:
        crds = read()
    except ChartUnreadable as error:
        problems.add(chart_key, source.location, str(error))
        return None
    return ChartSource(source.kind, source.location, source.version, crds)


def _local_chart(
    problems: Problems, chart_key: str, path_text: str, version_key: str, version: Optional[str],
    project_dir: Optional[Path],
) -> Optional[ChartSource]:
    path = Path(path_text).expanduser()
    if not path.is_absolute() and project_dir is None:
        problems.add(chart_key, path_text, f"{_EXPECTED}; a local one by its absolute path (there is no project "
                                           "folder to find a relative one in)")
        return None
    resolved = path if path.is_absolute() else project_dir / path
    try:
        metadata = _chart_metadata(resolved)
    except FileNotFoundError:
        problems.add(chart_key, path_text, f"{_EXPECTED} ({resolved} does not exist)")
        return None
    except (OSError, tarfile.TarError, yaml.YAMLError, ValueError) as error:
        problems.add(chart_key, path_text, f"a Helm chart directory or packaged .tgz ({error})")
        return None
    if metadata.get("name") != CHART_NAME:
        problems.add(chart_key, path_text, f"the chart {CHART_NAME} (this one is named {metadata.get('name')!r})")
        return None
    own_version = str(metadata.get("version"))
    if version is not None and version != own_version:
        problems.add(
            version_key, version,
            f"no value with a local chart (it is used as it is: {path_text} is version {own_version})",
        )
        return None
    read = (lambda: chart_files.crds_of_directory(resolved)) if resolved.is_dir() else (
        lambda: chart_files.crds_of_package(resolved.read_bytes()))
    return _with_crds(problems, chart_key, ChartSource("local", path_text, None), read)


def _chart_metadata(path: Path) -> dict:
    """Chart.yaml of a chart directory or of a packaged chart."""
    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise ValueError(f"{path} holds no Chart.yaml")
        return _mapping(yaml.safe_load((path / "Chart.yaml").read_text()))
    if not path.exists():
        raise FileNotFoundError(path)
    with tarfile.open(path, "r:*") as archive:
        member = next((m for m in archive.getmembers() if re.fullmatch(r"[^/]+/Chart\.yaml", m.name)), None)
        if member is None:
            raise ValueError(f"{path.name} holds no <chart>/Chart.yaml")
        extracted = archive.extractfile(member)
        return _mapping(yaml.safe_load(io.TextIOWrapper(extracted, encoding="utf-8").read()))


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("Chart.yaml is not a mapping")
    return value
