"""storageBackend s3Compatible: an existing S3-compatible store (on-prem MinIO, Ceph RGW, R2...)
through the AWS plugin, on an existing cluster (Pulumi.prod-onprem.yaml) or beside KIND."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path

import pytest

from .cli_config import USER_SECRETS, cli_config
from .harness import config_error, plain
from .schemas import chart_values_errors, crd_errors, manifest
from .stacks import SECRET_KEYS, run_stack

KEY = "brrtrouter-backup:"
LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation"
CHART = "kubernetes:helm.sh/v4:Chart"
S3_SECRETS = (f"{KEY}s3AccessKeyId", f"{KEY}s3SecretAccessKey")


def _certificate() -> str:
    """A real self-signed CA certificate (PEM), as a private CA's would be."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=test-ca"],
                       cwd=folder, check=True, capture_output=True)
        return (Path(folder) / "ca.crt").read_text()


CA = _certificate()


def location(run):
    return run.one(LOCATION).values


def credentials(run):
    return next(r for r in run.of_type("kubernetes:core/v1:Secret") if r.values["metadata"]["name"] == "velero-credentials")


def test_the_onprem_stack_writes_to_its_store_through_the_aws_plugin():
    run = run_stack("prod-onprem")
    spec = location(run)["spec"]
    assert spec["provider"] == "aws"
    assert spec["objectStorage"] == {"bucket": "brrtrouter-velero-backups", "prefix": "brrtrouter-prod"}
    assert spec["config"] == {
        "region": "us-east-1",
        "s3Url": "https://minio.backup.example.internal:9000",
        "s3ForcePathStyle": "true",
        "checksumAlgorithm": "CRC32",
        "publicUrl": "https://minio.example.com",
    }
    assert spec["credential"] == {"name": "velero-credentials", "key": "cloud"}
    secret = credentials(run)
    assert secret.secret("stringData")
    keys = USER_SECRETS["prod-onprem"]
    assert secret.values["stringData"]["cloud"] == (
        f"[default]\naws_access_key_id={keys['s3AccessKeyId']}\naws_secret_access_key={keys['s3SecretAccessKey']}\n")
    values = run.one(CHART).values["values"]
    assert [c["image"] for c in values["initContainers"]] == ["velero/velero-plugin-for-aws:v1.14.3"]
    assert values["credentials"] == {"useSecret": True, "existingSecret": "velero-credentials"}
    assert values["serviceAccount"]["server"]["annotations"] == {}
    assert crd_errors(manifest(location(run))) == []
    assert chart_values_errors(values) == []


def onprem(**overrides):
    return run_stack("prod-onprem", **overrides)


def test_checksums_off_a_private_ca_and_virtual_hosted_style():
    run = onprem(s3ChecksumAlgorithm="", s3CaBundle=CA, s3ForcePathStyle="false", s3Region="eu-central-1")
    spec = location(run)["spec"]
    assert spec["config"]["checksumAlgorithm"] == ""
    assert spec["config"]["s3ForcePathStyle"] == "false"
    assert spec["config"]["region"] == "eu-central-1"
    assert base64.b64decode(spec["objectStorage"]["caCert"]).decode() == CA
    assert crd_errors(manifest(location(run))) == []


def test_an_endpoint_without_tls_verification_says_so():
    spec = location(onprem(s3InsecureSkipTLSVerify="true"))["spec"]
    assert spec["config"]["insecureSkipTLSVerify"] == "true"


def test_plain_http_on_purpose_is_marked_on_the_location():
    run = onprem(s3Url="http://minio.backup.example.internal:9000", s3AllowPlainHttp="true")
    annotations = location(run)["metadata"]["annotations"]
    assert annotations["brrtrouter.io/allow-plain-http"] == "true"
    assert "brrtrouter.io/allow-plain-http" not in location(onprem())["metadata"]["annotations"]


def test_beside_a_kind_cluster_too():
    run = run_stack("dev", storageBackend="s3Compatible", credentialsMode="secret",
                    s3Url="https://minio.example.internal:9000", backupBucket="velero-dev",
                    s3AccessKeyId="dev-access-key", s3SecretAccessKey="dev-secret-key-0123456789")
    assert not run.of_type("docker:index/container:Container")  # no MinIO of the stack's own
    assert run.of_type("docker:index/volume:Volume")  # the data volumes are still the stack's
    assert location(run)["spec"]["config"]["s3Url"] == "https://minio.example.internal:9000"


def test_switching_from_aws_changes_only_the_location_the_credentials_and_the_plugin():
    def objects(run):
        return {(r.type, r.name): plain(r.inputs) for r in run.registrations}

    aws = objects(run_stack("prod-onprem", storageBackend="aws", credentialsMode="workloadIdentity",
                            awsRegion="eu-west-1", awsKmsKeyId="alias/velero", awsRoleArn="arn:aws:iam::123456789012:role/v",
                            s3Url="", s3PublicUrl="", s3AccessKeyId="", s3SecretAccessKey=""))
    s3 = objects(run_stack("prod-onprem"))
    changed = {key for key in aws.keys() | s3.keys() if aws.get(key) != s3.get(key)}
    assert changed == {
        (LOCATION, "backup-location-default"),
        ("kubernetes:core/v1:Secret", "velero-credentials"),
        (CHART, "velero-chart"),
    }
    aws_values, s3_values = aws[(CHART, "velero-chart")]["values"], s3[(CHART, "velero-chart")]["values"]
    differing = {key for key in aws_values.keys() | s3_values.keys() if aws_values.get(key) != s3_values.get(key)}
    # The chart changes in what credentials and identity the plugin gets, not in the plugin line.
    assert differing <= {"credentials", "serviceAccount", "podAnnotations"}


def error(**overrides) -> str:
    return config_error(cli_config("prod-onprem", overrides, check_types=False), stack="prod-onprem",
                        secret_keys=(*SECRET_KEYS, *S3_SECRETS))


@pytest.mark.parametrize(("overrides", "expected"), [
    (dict(s3Url=""), "s3Url = '': expected the store's endpoint, an http:// or https:// URL"),
    (dict(s3Url="minio.example.internal:9000"), "s3Url = 'minio.example.internal:9000': expected an http:// or https:// URL"),
    (dict(s3Url="ftp://minio.example.internal"), "s3Url = 'ftp://minio.example.internal': expected an http:// or https:// URL"),
    (dict(s3PublicUrl="minio.example.com"), "s3PublicUrl = 'minio.example.com': expected an http:// or https:// URL"),
    (dict(s3Region="EU Central"), "s3Region = 'EU Central': expected a region name such as us-east-1"),
    (dict(s3ForcePathStyle="yes"), "s3ForcePathStyle = 'yes': expected true or false"),
    (dict(s3ChecksumAlgorithm="MD5"), "s3ChecksumAlgorithm = 'MD5': expected one of '', 'CRC32', 'CRC32C', 'SHA1', 'SHA256'"),
    (dict(s3CaBundle="not a certificate"), "s3CaBundle = 'not a certificate': expected a PEM bundle"),
    (dict(s3CaBundle="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"), "expected a PEM bundle"),
    (dict(s3Url="http://minio.example.internal:9000", s3CaBundle=CA), "s3CaBundle = '<PEM>': expected no value with an http:// s3Url"),
    (dict(s3InsecureSkipTLSVerify="maybe"), "s3InsecureSkipTLSVerify = 'maybe': expected true or false"),
    (dict(s3Url="http://minio.example.internal:9000", s3InsecureSkipTLSVerify="true"), "s3InsecureSkipTLSVerify = 'true': expected false with an http:// s3Url"),
    (dict(s3CaBundle=CA, s3InsecureSkipTLSVerify="true"), "s3InsecureSkipTLSVerify = 'true': expected false when s3CaBundle is set"),
    (dict(s3AllowPlainHttp="sure"), "s3AllowPlainHttp = 'sure': expected true or false"),
    (dict(s3AccessKeyId=""), "s3AccessKeyId = '': expected a secret: pulumi config set --secret s3AccessKeyId"),
    (dict(s3SecretAccessKey=""), "s3SecretAccessKey = '': expected a secret: pulumi config set --secret s3SecretAccessKey"),
    (dict(credentialsMode="workloadIdentity"), "credentialsMode = 'workloadIdentity': expected secret with storageBackend s3Compatible: workload identity does not apply"),
    (dict(cloudCredentials="[default]"), "cloudCredentials = '<set>': expected no value with storageBackend s3Compatible"),
    (dict(backupBucket=""), "backupBucket = '': expected the name of the bucket backups go to"),
    (dict(awsRegion="eu-west-1"), "awsRegion = 'eu-west-1': expected no value: it applies to storageBackend aws only"),
    (dict(gcpServiceAccount="velero@p.iam.gserviceaccount.com"), "gcpServiceAccount = 'velero@p.iam.gserviceaccount.com': expected no value: it applies to storageBackend gcp only"),
    (dict(azureClientId="11111111-1111-1111-1111-111111111111"), "azureClientId = '11111111-1111-1111-1111-111111111111': expected no value: it applies to storageBackend azure only"),
    (dict(veleroAwsPluginImage="velero/velero-plugin-for-aws:v1.14.2"), "mishandle checksumAlgorithm on S3-compatible stores"),
    (dict(veleroAwsPluginImage="velero/velero-plugin-for-aws:v1.14.1"), "mishandle checksumAlgorithm on S3-compatible stores"),
], ids=lambda value: str(value)[:60] if isinstance(value, dict) else "")
def test_bad_s3_compatible_config_is_an_error_naming_the_key(overrides, expected):
    message = error(**overrides)
    assert expected in message
    assert "nothing was changed" in message


def test_plain_text_credentials_are_refused_without_showing_them():
    config = cli_config("prod-onprem")
    config.secret_keys = ()  # set with `pulumi config set`, without --secret
    message = config_error(config, stack="prod-onprem", secret_keys=())
    assert f"{KEY}s3AccessKeyId = '<plain text>': expected a secret" in message
    assert f"{KEY}s3SecretAccessKey = '<plain text>': expected a secret" in message
    assert USER_SECRETS["prod-onprem"]["s3SecretAccessKey"] not in message


def test_the_plan_and_the_alerts_are_the_same_as_for_any_backend():
    onprem_run, aws_run = run_stack("prod-onprem"), run_stack("prod")
    assert onprem_run.outputs["backupPlan"] == aws_run.outputs["backupPlan"]
    assert onprem_run.outputs["storageBackend"] == "s3Compatible"
    rules = onprem_run.one("kubernetes:core/v1:ConfigMap", "velero-alerts-rules").values["data"]["velero-alerts.yaml"]
    assert "VeleroBackupStale" in rules and "VeleroBackupStorageLocationUnavailable" in rules
