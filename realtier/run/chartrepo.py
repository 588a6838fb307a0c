"""A Helm chart repository on 127.0.0.1 over https (https.py), serving the official chart package
from ../shared/charts: the default `veleroChart` form (a repository URL), offline. Both the
program (Python's urllib) and the kubernetes provider (Go) trust its CA through `environment()`.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..build.cache import shared_dir
from .https import HttpsServer


def chart_package() -> Path:
    packages = sorted((shared_dir() / "charts").glob("velero-*.tgz"))
    if not packages:
        raise FileNotFoundError(f"no velero-*.tgz in {shared_dir() / 'charts'}")
    return packages[-1]


def chart_yaml(package: Path) -> str:
    with tarfile.open(package) as archive:
        return archive.extractfile("velero/Chart.yaml").read().decode()


@dataclass
class ChartRepository(HttpsServer):
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/charts"

    @classmethod
    def start(cls, root: Path) -> "ChartRepository":
        return cls(root)._started()

    def _start(self) -> None:
        site = self.root / "site" / "charts"
        site.mkdir(parents=True)
        package = chart_package()
        shutil.copy2(package, site / package.name)
        requests = self.requests
        directory = str(self.root / "site")

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
                requests.append(self.path)

        self._serve(Handler, "brrtrouter-chart-repository-ca")
        (site / "index.yaml").write_text(self._index(package))

    def _index(self, package: Path) -> str:
        metadata = chart_yaml(package)
        version = re.search(r"^version:\s*(\S+)", metadata, re.M).group(1)
        app_version = re.search(r"^appVersion:\s*(\S+)", metadata, re.M).group(1)
        digest = hashlib.sha256(package.read_bytes()).hexdigest()
        return (
            "apiVersion: v1\nentries:\n  velero:\n"
            f"  - apiVersion: v2\n    name: velero\n    version: {version}\n    appVersion: {app_version}\n"
            f"    digest: {digest}\n    created: '2026-01-01T00:00:00Z'\n"
            f"    urls:\n    - {self.url}/{package.name}\n"
            "generated: '2026-01-01T00:00:00Z'\n"
        )
