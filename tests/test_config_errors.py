"""Bad input: for every key, a wrong value stops the program with a clear error before any resource.

The values go straight to the program (check_types=False): the CLI's own type check is one
guard, the program's is the one that names what was expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_config import cli_config
from .harness import PROJECT_DIR, config_error

KEY = "brrtrouter-backup:"

BAD_VALUES = [
    # (key, bad value, words the error must contain)
    ("namePrefix", "", "non-empty lower-case DNS label"),
    ("namePrefix", "BRRT_Router", "lower-case DNS label"),
    ("catalogue", "config/missing.yaml", "a readable catalogue file"),
    ("kindClusterName", "", "non-empty lower-case DNS label"),
    ("kindNodeImage", "kindest/node", "pinned by tag or digest"),
    ("kindNodeImage", "kindest/node:v1.34.0@sha256:abc", "pinned by tag or digest"),
    ("kindApiServerPort", "70000", "between 1 and 65535"),
    ("kindApiServerPort", "six", "between 1 and 65535"),
    ("kindPortMappings", "8080:30080", "a list of strings"),
    ("kindPortMappings", ["8080"], "[listenAddress:]hostPort:containerPort"),
    ("kindPortMappings", ["0:30080"], "between 1 and 65535"),
    ("kindPortMappings", ["localhost:8080:30080"], "[listenAddress:]hostPort:containerPort"),
    ("minioImage", "quay.io/minio/minio", "pinned by tag or digest"),
    ("minioImage", "Quay.io/MinIO/minio:latest tag", "pinned by tag or digest"),
    ("minioListenAddress", "my-laptop", "an IPv4 address"),
    ("minioApiPort", "0", "between 1 and 65535"),
    ("minioConsolePort", "65536", "between 1 and 65535"),
    ("minioBucket", "Velero_Backups", "an S3 bucket name"),
    ("minioRegion", "", "a region name"),
    ("minioVeleroUser", "a b", "an access key"),
    ("appNamespace", "Brrt Dev", "lower-case DNS label"),
    ("storageClassName", "", "non-empty lower-case DNS label"),
    ("veleroNamespace", "velero_ns", "lower-case DNS label"),
    ("veleroChart", "", "an https:// Helm repository, an oci:// chart reference, or the path of a local chart"),
    ("veleroChart", "http://vmware-tanzu.github.io/helm-charts", "plain http is not accepted"),
    ("veleroChart", "https://charts.example.com/velero", "a Helm repository this machine can reach"),
    ("veleroChart", "oci://Registry.example.com", "an oci:// reference to the chart"),
    ("veleroChart", "charts/velero-missing.tgz", "does not exist"),
    ("veleroChart", "config", "a Helm chart directory or packaged .tgz"),
    ("veleroChartVersion", "latest", "a chart version such as 12.1.0"),
    ("veleroChartVersion", "12.9.9", "a version of the chart velero in https://vmware-tanzu.github.io/helm-charts"),
    ("veleroImage", "velero/velero:latest", "a Velero image tagged vX.Y.Z of a supported release"),
    ("veleroImage", "velero/velero:v1.15.2", "a Velero image tagged vX.Y.Z of a supported release"),
    ("veleroAwsPluginImage", "velero/velero-plugin-for-aws:v1.13.2", "the plugin release v1.14.x that matches Velero 1.18.1"),
    ("veleroAwsPluginImage", "velero/velero-plugin-for-aws:v1.14.1", "mishandle checksumAlgorithm"),
    ("veleroAwsPluginImage", "velero/velero-plugin-for-aws", "pinned by tag or digest"),
    ("veleroRepositoryPassword", "static-passw0rd-but-longer", "a secret: pulumi config set --secret"),
    ("veleroRepositoryPassword", "", "the password of Velero's kopia repository, as a secret"),
    ("monitoring", "grafana", "annotations or prometheusOperator"),
    ("alertGracePeriod", "1 hour", "a Go duration"),
    ("grafanaDashboardLabel", "grafana_dashboard", "a Kubernetes label as key=value"),
    ("grafanaDashboardLabel", "grafana dashboard=1", "a Kubernetes label as key=value"),
    ("scheduleOverrides", ["brrtrouter-complete.retention=90d"], "'<schedule>.<cron|ttl|paused>=<value>'"),
    ("scheduleOverrides", ["backup-everything.ttl=90h"], "expected a schedule of the catalogue"),
    ("clusterMode", "minikube", "kind or existing"),
    ("kubeconfig", "apiVersion: v1", "no value: it applies to clusterMode existing only"),
    ("kubeContext", "prod", "no value: it applies to clusterMode existing only"),
    ("storageBackend", "s3", "minio or aws or gcp or azure"),
    ("backupBucket", "velero-backups", "no value with storageBackend minio"),
    ("backupPrefix", "/leading-slash", "a path prefix"),
    ("credentialsMode", "iam", "workloadIdentity or secret"),
    ("credentialsMode", "secret", "workloadIdentity (the default) with storageBackend minio"),
    ("cloudCredentials", "[default]", "no value with storageBackend minio"),
    ("awsRegion", "eu-west-1", "no value: it applies to storageBackend aws only"),
    ("awsKmsKeyId", "alias/velero", "no value: it applies to storageBackend aws only"),
    ("awsServerSideEncryption", "AES256", "no value: it applies to storageBackend aws only"),
    ("awsRoleArn", "arn:aws:iam::123456789012:role/velero", "no value: it applies to storageBackend aws only"),
    ("gcpKmsKeyName", "projects/p/locations/l/keyRings/r/cryptoKeys/k", "no value: it applies to storageBackend gcp only"),
    ("gcpServiceAccount", "velero@brrtrouter.iam.gserviceaccount.com", "no value: it applies to storageBackend gcp only"),
    ("azureResourceGroup", "rg-backups", "no value: it applies to storageBackend azure only"),
    ("azureStorageAccount", "brrtrouterbackups", "no value: it applies to storageBackend azure only"),
    ("azureSubscriptionId", "00000000-0000-0000-0000-000000000000", "no value: it applies to storageBackend azure only"),
    ("azureClientId", "00000000-0000-0000-0000-000000000000", "no value: it applies to storageBackend azure only"),
    ("veleroGcpPluginImage", "velero/velero-plugin-for-gcp", "pinned by tag or digest"),
    ("veleroAzurePluginImage", "velero/velero-plugin-for-microsoft-azure", "pinned by tag or digest"),
    ("veleroRbac", "admin", "clusterAdmin or restricted"),
    ("locationAvailableTimeout", "-1", "a whole number from 0 to 3600 (seconds; 0 does not wait)"),
    ("locationAvailableTimeout", "5m", "a whole number from 0 to 3600"),
    ("nodeAgentLoadConcurrency", "0", "a whole number from 1 to 64 (volumes at once per node)"),
    ("itemBlockWorkerCount", "0", "a whole number from 1 to 64 (pods backed up at once)"),
    ("locationValidationFrequency", "-1m", "a Go duration above 0 such as 1h or 10m"),
    ("garbageCollectionFrequency", "hourly", "a Go duration above 0 such as 1h or 10m"),
    ("repositoryMaintenanceFrequency", "0s", "a Go duration above 0 such as 1h or 10m"),
    ("parallelFilesUpload", "many", "a whole number from 0 to 256"),
    ("dataMoverCpu", "2 cores", "empty, or a quantity such as 500m or 2"),
    ("dataMoverMemory", "1GB", "empty, or a quantity such as 512Mi or 2Gi"),
    # The s3Compatible keys on the dev stack (minio): another backend's keys are refused. Each has
    # its own wrong values on an s3Compatible stack in tests/test_s3_compatible.py.
    ("s3Url", "https://minio.example.internal:9000", "no value: it applies to storageBackend s3Compatible only"),
    ("s3PublicUrl", "https://minio.example.com", "no value: it applies to storageBackend s3Compatible only"),
    ("s3Region", "eu-central-1", "no value: it applies to storageBackend s3Compatible only"),
    ("s3ForcePathStyle", "false", "no value: it applies to storageBackend s3Compatible only"),
    ("s3ChecksumAlgorithm", "", "no value: it applies to storageBackend s3Compatible only"),
    ("s3CaBundle", "-----BEGIN CERTIFICATE-----", "no value: it applies to storageBackend s3Compatible only"),
    ("s3InsecureSkipTLSVerify", "true", "no value: it applies to storageBackend s3Compatible only"),
    ("s3AllowPlainHttp", "true", "no value: it applies to storageBackend s3Compatible only"),
    ("s3AccessKeyId", "AKIA", "no value: it applies to storageBackend s3Compatible only"),
    ("s3SecretAccessKey", "secret", "no value: it applies to storageBackend s3Compatible only"),
]


def program_error(overrides=None) -> str:
    return config_error(cli_config("dev", overrides, check_types=False))


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES, ids=[f"{k}={v!r}" for k, v, _ in BAD_VALUES])
def test_bad_value_names_key_value_and_expectation(key, value, expected):
    message = program_error({key: value})
    assert f"{KEY}{key} = " in message
    assert expected in message
    assert "nothing was changed" in message


def test_every_declared_key_has_a_bad_value_case():
    from velero_pulumi.config import KEYS

    assert {key for key, _, _ in BAD_VALUES} == set(KEYS)


def test_a_renamed_key_names_its_new_name():
    message = program_error({"veleroChartRepository": "https://vmware-tanzu.github.io/helm-charts"})
    assert "veleroChartRepository = 'https://vmware-tanzu.github.io/helm-charts': expected the key veleroChart" in message


def test_unknown_key_is_an_error_listing_the_known_ones():
    message = program_error({"minioPort": "9000"})
    assert "brrtrouter-backup:minioPort = '9000': no such key (known: namePrefix" in message
    assert "minioApiPort" in message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"minioConsolePort": 9000}, "minioConsolePort = 9000: expected a host port not already used by brrtrouter-backup:minioApiPort"),
        ({"kindApiServerPort": 9001}, "minioConsolePort = 9001: expected a host port not already used by brrtrouter-backup:kindApiServerPort"),
        ({"kindPortMappings": ["9000:30080"]}, "kindPortMappings = 9000: expected a host port not already used by brrtrouter-backup:minioApiPort"),
        ({"kindPortMappings": ["8080:30080", "8081:30080"]}, "kindPortMappings = 30080: expected each node port published once"),
    ],
    ids=["console-on-api-port", "api-server-on-console-port", "mapping-on-minio-port", "node-port-twice"],
)
def test_duplicated_ports_are_errors(overrides, expected):
    assert expected in program_error(overrides)


def write_catalogue(tmp_path: Path, text: str) -> str:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("services:\n  prometheus:\n    volumeSize: 5GB\n", "services.prometheus.volumeSize = '5GB': expected a size with a binary unit"),
        ("services:\n  prometheus:\n    volumeSize: 5G\n", "services.prometheus.volumeSize = '5G': expected a size with a binary unit"),
        ("services:\n  prometheus:\n    volumSize: 5Gi\n", "services.prometheus.volumSize = '5Gi': no such key (known: volumeSize, component, dataSize, dailyChange)"),
        ("services:\n  Prometheus_Server:\n    volumeSize: 5Gi\n", "services.Prometheus_Server = 'Prometheus_Server': expected a non-empty lower-case DNS label"),
        ("services: {}\n", "services = {}: expected a non-empty mapping"),
        ("services:\n  loki: {}\nservice:\n  prometheus: {}\n", "service = {'prometheus': {}}: no such key (known: services, hooks, schedules)"),
        ("services: [prometheus\n", "expected a YAML file"),
        ("services:\n  loki: {}\n  loki: {volumeSize: 1Gi}\n", "duplicate key 'loki'"),
    ],
    ids=["size-GB", "size-G", "unknown-field", "bad-service-name", "no-services", "unknown-top-level", "broken-yaml", "duplicate-service"],
)
def test_catalogue_errors_name_the_file_and_path(tmp_path, text, expected):
    path = write_catalogue(tmp_path, text)
    message = program_error({"catalogue": path})
    assert f"{KEY}catalogue" in message
    assert expected in message


def test_the_shipped_catalogue_is_the_default():
    assert cli_config("dev")[f"{KEY}catalogue"] == "config/catalogue.yaml"
    assert (PROJECT_DIR / "config" / "catalogue.yaml").is_file()
