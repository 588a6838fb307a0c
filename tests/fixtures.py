"""Component arguments several test modules share."""

import urllib.error

from components import MinioBackend

MINIO_BACKEND = MinioBackend(
    bucket="velero",
    region="us-east-1",
    s3_url="http://brrtrouter-minio:9000",
    public_url="http://localhost:9000",
    plugin_image="velero/velero-plugin-for-aws:v1.14.4",
    access_key="velero",
    secret_key="test-secret-key-0123456789",
)

# The default chart repository (Pulumi.yaml veleroChart) as the program sees it without network:
# a stand-in that answers its index with the pinned chart version, and refuses every other URL.
CHART_REPOSITORY = "https://vmware-tanzu.github.io/helm-charts"
CHART_INDEX = b"""apiVersion: v1
entries:
  velero:
  - name: velero
    version: 12.1.0
    appVersion: 1.18.1
  - name: velero
    version: 12.0.0
    appVersion: 1.17.1
"""


def stand_in_chart_repository(url: str) -> bytes:
    if url == f"{CHART_REPOSITORY}/index.yaml":
        return CHART_INDEX
    raise urllib.error.URLError(f"stand-in: no network for {url}")

# An existing cluster as the program's preflight sees it without one: it serves the Prometheus
# Operator's kinds (the production stack files want them). Tests of a bare cluster patch it.
OPERATOR_KINDS = {"monitoring.coreos.com/v1": {"PrometheusRule", "ServiceMonitor", "PodMonitor", "Probe"}}


def stand_in_cluster(kubeconfig, context, group_versions):
    return {group_version: set(OPERATOR_KINDS.get(group_version, ())) for group_version in group_versions}
