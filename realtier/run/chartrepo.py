"""A Helm chart repository on 127.0.0.1 over https, with a throw-away CA, serving the official
chart package from ../shared/charts: the default `veleroChart` form (a repository URL), offline.

Both the program (Python's urllib) and the kubernetes provider (Go) trust the CA through
SSL_CERT_FILE, which `environment()` points at the system bundle plus that CA.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import ssl
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..build.cache import shared_dir
from .pki import make_ca, sign
from .proctree import StartedService

SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


def chart_package() -> Path:
    packages = sorted((shared_dir() / "charts").glob("velero-*.tgz"))
    if not packages:
        raise FileNotFoundError(f"no velero-*.tgz in {shared_dir() / 'charts'}")
    return packages[-1]


def chart_yaml(package: Path) -> str:
    with tarfile.open(package) as archive:
        return archive.extractfile("velero/Chart.yaml").read().decode()


@dataclass
class ChartRepository(StartedService):
    root: Path
    server: Optional[http.server.ThreadingHTTPServer] = None
    thread: Optional[threading.Thread] = None
    port: int = 0
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/charts"

    @property
    def ca_bundle(self) -> Path:
        return self.root / "ca-bundle.pem"

    def environment(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.ca_bundle)}

    @classmethod
    def start(cls, root: Path) -> "ChartRepository":
        return cls(root)._started()

    def _start(self) -> None:
        site = self.root / "site" / "charts"
        site.mkdir(parents=True)
        package = chart_package()
        shutil.copy2(package, site / package.name)
        self._make_certificate()
        requests = self.requests
        directory = str(self.root / "site")

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.root / "server.crt", self.root / "server.key")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        (site / "index.yaml").write_text(self._index(package))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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

    def _make_certificate(self) -> None:
        make_ca(self.root, "brrtrouter-chart-repository-ca", days=2)
        sign(self.root, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
             days=2)
        system = next((Path(p) for p in SYSTEM_CA_BUNDLES if Path(p).is_file()), None)
        bundle = (system.read_text() if system else "") + (self.root / "ca.crt").read_text()
        self.ca_bundle.write_text(bundle)

    def stop(self) -> None:
        if self.server is not None:
            if self.thread is not None:  # shutdown() waits for serve_forever(), so only once it runs
                self.server.shutdown()
            self.server.server_close()
            self.server = None
