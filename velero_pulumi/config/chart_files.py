"""Reading a chart's files where helm.v4.Chart would fetch them: a Helm repository's package, an
OCI registry's chart layer, or a local directory or .tgz.

The program reads only the chart's crds/: Velero's CustomResourceDefinitions become resources of
their own, so the storage location and the schedules wait for them and not for the chart's pods
(components/velero_install.py). A package is checked against the digest its index or manifest
gives before anything is read from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

try:  # libyaml parses the CRDs' 160 KB in a tenth of the pure-Python time
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as YamlLoader  # type: ignore[assignment]

TIMEOUT_SECONDS = 15
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CRD_FILE = re.compile(r"^[^/]+/crds/[^/]+\.ya?ml$")
LOGIN_NEEDED = ("a chart the program may read without credentials (the registry asks for a login; `helm pull` the "
                "chart and set veleroChart to the .tgz)")


class ChartUnreadable(Exception):
    """What stops the program from reading the chart, in words that end an `expected ...` phrase."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def get_url(url: str, headers: Mapping[str, str]) -> Response:
    """GET url (proxies and SSL_CERT_FILE as the environment says); any HTTP status is a Response,
    a failure to connect an OSError."""
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in (error.headers or {}).items()}, error.read() or b"")


# The tests replace this with a stand-in repository and registry; everything else fetches for real.
http_get: Callable[[str, Mapping[str, str]], Response] = get_url


def fetch(url: str, headers: Mapping[str, str] | None = None) -> bytes:
    answer = http_get(url, headers or {})
    if answer.status != 200:
        raise ChartUnreadable(f"GET {url} answered {answer.status}")
    return answer.body


# --- the CRDs of a chart ---------------------------------------------------------------------------


def crds_of_package(package: bytes) -> tuple[dict[str, Any], ...]:
    """The CustomResourceDefinitions in a packaged chart's crds/."""
    try:
        with tarfile.open(fileobj=io.BytesIO(package), mode="r:*") as archive:
            texts = [archive.extractfile(member).read().decode()
                     for member in sorted(archive.getmembers(), key=lambda m: m.name)
                     if member.isfile() and CRD_FILE.match(member.name)]
    except (tarfile.TarError, OSError, UnicodeDecodeError) as error:
        raise ChartUnreadable(f"a packaged chart (it does not open: {error})") from None
    return _definitions(texts)


def crds_of_directory(chart: Path) -> tuple[dict[str, Any], ...]:
    return _definitions([path.read_text() for path in sorted((chart / "crds").glob("*.y*ml"))])


def _definitions(texts: list[str]) -> tuple[dict[str, Any], ...]:
    documents = [document for text in texts for document in yaml.load_all(text, Loader=YamlLoader) if document]
    crds = tuple(d for d in documents if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition")
    if not crds:
        raise ChartUnreadable("a chart whose crds/ holds Velero's CustomResourceDefinitions (it holds none)")
    return crds


# --- a Helm repository ---------------------------------------------------------------------------


def repository_package(repository: str, entry: Mapping[str, Any]) -> bytes:
    """The package an index entry names (its first URL, relative to the repository or absolute),
    checked against the entry's sha256 digest."""
    urls = entry.get("urls") or []
    if not urls:
        raise ChartUnreadable(f"a repository whose index gives the chart's URL (version {entry.get('version')} has none)")
    url = urllib.parse.urljoin(repository.rstrip("/") + "/", str(urls[0]))
    try:
        package = fetch(url)
    except OSError as error:
        raise ChartUnreadable(f"a chart package this machine can fetch (GET {url} failed: {getattr(error, 'reason', error)})") from None
    digest = entry.get("digest")
    if digest and hashlib.sha256(package).hexdigest() != digest:
        raise ChartUnreadable(f"a package that matches the index's digest ({url} does not)")
    return package


# --- an OCI registry -------------------------------------------------------------------------------


def oci_package(reference: str, version: str) -> bytes:
    """The chart layer of oci://HOST/PATH at `version`, as `helm pull` fetches it: anonymous, with a
    bearer token where the registry asks for one."""
    host, _, repository = reference.removeprefix("oci://").partition("/")
    base = f"https://{host}/v2/{repository}"
    session = _Registry()
    try:
        manifest = json.loads(session.get(f"{base}/manifests/{version}", {"Accept": OCI_MANIFEST}))
        layer = next((l for l in manifest.get("layers") or [] if l.get("mediaType") == HELM_CHART_LAYER), None)
        if layer is None:
            raise ChartUnreadable(f"a Helm chart at {reference}:{version} (its manifest has no chart layer)")
        package = session.get(f"{base}/blobs/{layer['digest']}", {})
    except OSError as error:
        raise ChartUnreadable(f"a registry this machine can reach ({host}: {getattr(error, 'reason', error)})") from None
    except ValueError:
        raise ChartUnreadable(f"a registry that answers with an OCI manifest ({reference}:{version} does not)") from None
    algorithm, _, expected = str(layer["digest"]).partition(":")
    if algorithm == "sha256" and hashlib.sha256(package).hexdigest() != expected:
        raise ChartUnreadable(f"a chart layer that matches its digest ({reference}:{version} does not)")
    return package


class _Registry:
    """GETs against one registry, answering its bearer-token challenge once."""

    def __init__(self) -> None:
        self.token: str | None = None

    def get(self, url: str, headers: Mapping[str, str]) -> bytes:
        answer = http_get(url, self._with_token(headers))
        if answer.status == 401 and self.token is None:
            self.token = _token(answer.headers.get("www-authenticate", ""), url)
            answer = http_get(url, self._with_token(headers))
        if answer.status == 401:
            raise ChartUnreadable(LOGIN_NEEDED)
        if answer.status != 200:
            raise ChartUnreadable(f"a chart the registry serves (GET {url} answered {answer.status})")
        return answer.body

    def _with_token(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {**headers, **({"Authorization": f"Bearer {self.token}"} if self.token else {})}


def _token(challenge: str, url: str) -> str:
    """An anonymous token from the realm of a `Bearer realm=...,service=...,scope=...` challenge."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        raise ChartUnreadable(f"a registry that serves the chart anonymously (GET {url} asks for {challenge or 'a login'})")
    query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
    answer = http_get(f"{fields['realm']}?{query}" if query else fields["realm"], {})
    if answer.status in (401, 403):
        raise ChartUnreadable(LOGIN_NEEDED)
    body = json.loads(answer.body or b"{}")
    token = body.get("token") or body.get("access_token")
    if not token:
        raise ChartUnreadable(f"a registry that hands out anonymous tokens ({fields['realm']} gave none)")
    return token
