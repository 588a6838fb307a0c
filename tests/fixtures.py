"""Component arguments several test modules share."""

import hashlib
import io
import json
import tarfile
import urllib.error

from velero_pulumi.components import MinioBackend
from velero_pulumi.config.chart_files import Response, crds_of_directory

from .schemas import chart_dir

MINIO_BACKEND = MinioBackend(
    bucket="velero",
    region="us-east-1",
    s3_url="http://brrtrouter-minio:9000",
    public_url="http://localhost:9000",
    plugin_image="velero/velero-plugin-for-aws:v1.14.3",
    access_key="velero",
    secret_key="test-secret-key-0123456789",
)

# The default chart repository (Pulumi.yaml veleroChart) as the program sees it without network:
# a stand-in that answers its index with the pinned chart version and serves that version's
# package (the official chart 12.1.0, packaged here as `helm package` does), and refuses every
# other URL.
CHART_REPOSITORY = "https://vmware-tanzu.github.io/helm-charts"


def packaged_chart(folder) -> bytes:
    """A chart directory as a .tgz, its files under velero/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname="velero")
    return buffer.getvalue()


CHART_PACKAGE = packaged_chart(chart_dir())
CHART_CRDS = crds_of_directory(chart_dir())
CHART_PACKAGE_URL = "https://github.com/vmware-tanzu/helm-charts/releases/download/velero-12.1.0/velero-12.1.0.tgz"
CHART_INDEX = f"""apiVersion: v1
entries:
  velero:
  - name: velero
    version: 12.1.0
    appVersion: 1.18.1
    urls:
    - {CHART_PACKAGE_URL}
    digest: {hashlib.sha256(CHART_PACKAGE).hexdigest()}
  - name: velero
    version: 12.0.0
    appVersion: 1.17.1
    urls:
    - velero-12.0.0.tgz
""".encode()


# An OCI registry that holds the same chart as oci://registry.example.com/charts/velero:12.1.0 and,
# like public registries, hands out an anonymous bearer token on its challenge.
OCI_CHART = "oci://registry.example.com/charts/velero"
REGISTRY = "https://registry.example.com"
OCI_LAYER_DIGEST = f"sha256:{hashlib.sha256(CHART_PACKAGE).hexdigest()}"
OCI_MANIFEST = json.dumps({
    "schemaVersion": 2,
    "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:0", "size": 0},
    "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": OCI_LAYER_DIGEST,
                "size": len(CHART_PACKAGE)}],
}).encode()
OCI_CHALLENGE = (f'Bearer realm="{REGISTRY}/token",service="registry.example.com",'
                 'scope="repository:charts/velero:pull"')


def stand_in_chart_repository(url: str, headers=None) -> Response:
    if url == f"{CHART_REPOSITORY}/index.yaml":
        return Response(200, {}, CHART_INDEX)
    if url == CHART_PACKAGE_URL:
        return Response(200, {}, CHART_PACKAGE)
    if url == f"{REGISTRY}/token?service=registry.example.com&scope=repository%3Acharts%2Fvelero%3Apull":
        return Response(200, {}, b'{"token": "anonymous"}')
    registry = {f"{REGISTRY}/v2/charts/velero/manifests/12.1.0": OCI_MANIFEST,
                f"{REGISTRY}/v2/charts/velero/blobs/{OCI_LAYER_DIGEST}": CHART_PACKAGE}
    if url in registry:
        if (headers or {}).get("Authorization") != "Bearer anonymous":
            return Response(401, {"www-authenticate": OCI_CHALLENGE})
        return Response(200, {}, registry[url])
    raise urllib.error.URLError(f"stand-in: no network for {url}")


# An existing cluster as the program's preflight sees it without one: it serves the Prometheus
# Operator's kinds (the production stack files want them). Tests of a bare cluster patch it.
OPERATOR_KINDS = {"monitoring.coreos.com/v1": {"PrometheusRule", "ServiceMonitor", "PodMonitor", "Probe"}}


def stand_in_cluster(kubeconfig, context, group_versions):
    return {group_version: set(OPERATOR_KINDS.get(group_version, ())) for group_version in group_versions}

# The metrics Velero v1.18.1 exports (github.com/vmware-tanzu/velero pkg/metrics/metrics.go, the
# server's own, not the node agent's); the real tier checks the dashboard against a live server.
VELERO_METRICS = {f"velero_{name}" for name in (
    "backup_tarball_size_bytes", "backup_total", "backup_attempt_total", "backup_success_total",
    "backup_partial_failure_total", "backup_failure_total", "backup_validation_failure_total",
    "backup_duration_seconds", "backup_deletion_attempt_total", "backup_deletion_success_total",
    "backup_deletion_failure_total", "backup_last_successful_timestamp", "backup_items_total",
    "backup_items_errors", "backup_warning_total", "backup_last_status", "backup_location_status_gauge",
    "restore_total", "restore_attempt_total", "restore_validation_failed_total", "restore_success_total",
    "restore_partial_failure_total", "restore_failed_total", "csi_snapshot_attempt_total",
    "csi_snapshot_success_total", "csi_snapshot_failure_total")}


def queried_metrics(text: str) -> set[str]:
    """The Velero metrics named in alert rules or a dashboard (a histogram's series by its name)."""
    import re

    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in re.findall(r"\bvelero_[a-z_]+\b", text)}
