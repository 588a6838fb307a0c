"""Where backups go, per stack: MinIO beside a KIND cluster, S3, GCS, Azure Blob, or an existing
S3-compatible store (on-prem MinIO, Ceph RGW, Cloudflare R2, Wasabi, Backblaze B2...).

Each backend has its own keys (aws*, gcp*, azure*, s3*); a key of another backend set to anything
but its default is an error, not silently ignored. Cloud credentials come by workload identity by
default, or from a Pulumi secret; an S3-compatible store takes an access key pair, as secrets.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, replace
from typing import Optional

from . import values
from .reader import Reader
from .versions import AWS_PLUGIN_BAD_ON_S3_COMPATIBLE, PLUGIN_MINOR_FOR_VELERO, ImageRef, split_image

BACKENDS = ("minio", "aws", "gcp", "azure", "s3Compatible")
CREDENTIALS_MODES = ("workloadIdentity", "secret")
PLUGIN_KEYS = {
    "minio": "veleroAwsPluginImage",
    "aws": "veleroAwsPluginImage",
    "gcp": "veleroGcpPluginImage",
    "azure": "veleroAzurePluginImage",
    "s3Compatible": "veleroAwsPluginImage",
}
BACKEND_KEYS = {
    "aws": ("awsRegion", "awsKmsKeyId", "awsServerSideEncryption", "awsRoleArn"),
    "gcp": ("gcpKmsKeyName", "gcpServiceAccount"),
    "azure": ("azureResourceGroup", "azureStorageAccount", "azureSubscriptionId", "azureClientId"),
    "s3Compatible": (
        "s3Url", "s3PublicUrl", "s3Region", "s3ForcePathStyle", "s3ChecksumAlgorithm", "s3CaBundle",
        "s3InsecureSkipTLSVerify", "s3AllowPlainHttp", "s3AccessKeyId", "s3SecretAccessKey",
    ),
}
# The AWS plugin's checksumAlgorithm: "" turns checksums off, which many S3-compatible stores need.
S3_CHECKSUM_ALGORITHMS = ("", "CRC32", "CRC32C", "SHA1", "SHA256")
URL = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^\s]*)?$")
PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
AWS_SSE = ("AES256", "aws:kms")

AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
AWS_KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+|alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$"
)
AWS_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")
GCP_KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
GCP_SERVICE_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$")
AZURE_RESOURCE_GROUP = re.compile(r"^[A-Za-z0-9._()-]{1,90}$")
AZURE_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
AZURE_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class AwsSettings:
    region: str
    kms_key_id: Optional[str]
    server_side_encryption: Optional[str]
    role_arn: Optional[str]


@dataclass(frozen=True)
class GcpSettings:
    kms_key_name: Optional[str]
    service_account: Optional[str]


@dataclass(frozen=True)
class AzureSettings:
    resource_group: str
    storage_account: str
    subscription_id: str
    client_id: Optional[str]


@dataclass(frozen=True)
class S3CompatibleSettings:
    url: str
    public_url: Optional[str]
    region: str
    force_path_style: bool
    checksum_algorithm: str
    ca_bundle: Optional[str]  # PEM
    insecure_skip_tls_verify: bool
    allow_plain_http: bool
    access_key: str  # from a Pulumi secret
    secret_key: str  # from a Pulumi secret


@dataclass(frozen=True)
class BackendSettings:
    """The backend of a stack. For minio the bucket and user come from MinioSettings."""

    kind: str
    bucket: Optional[str]
    prefix: Optional[str]
    plugin_image: str
    # workloadIdentity or secret; "generated" for minio, whose user this stack creates.
    credentials_mode: str
    # The credentials file (secret mode), from a Pulumi secret.
    credentials: Optional[str]
    aws: Optional[AwsSettings] = None
    gcp: Optional[GcpSettings] = None
    azure: Optional[AzureSettings] = None
    s3: Optional[S3CompatibleSettings] = None


def read_backend(read: Reader, cluster_mode: Optional[str], server: Optional[ImageRef]) -> Optional[BackendSettings]:
    problems = read.problems
    kind = read.choice("storageBackend", BACKENDS)
    if kind is None:
        return None
    if kind == "minio" and cluster_mode == "existing":
        problems.add(
            read.key("storageBackend"), kind,
            "aws, gcp, azure or s3Compatible with clusterMode existing (minio is the MinIO this stack creates "
            "beside a KIND cluster; an existing MinIO is s3Compatible)",
        )
    for other, keys in BACKEND_KEYS.items():
        if other != kind:
            for name in keys:
                if read.is_set(name):
                    shown = "<secret>" if read.key(name) in read.secret_keys else read.get(name)
                    problems.add(read.key(name), shown, f"no value: it applies to storageBackend {other} only")

    plugin = _plugin(read, kind, server)
    prefix = read.optional("backupPrefix")
    if prefix is not None and not PREFIX.match(prefix):
        problems.add(read.key("backupPrefix"), prefix, "a path prefix of letters, digits, '.', '_', '-' and '/'")
    mode = read.choice("credentialsMode", CREDENTIALS_MODES)
    if kind == "minio":
        for name in ("backupBucket", "cloudCredentials"):
            if read.optional(name) is not None:
                problems.add(read.key(name), "<set>", "no value with storageBackend minio (see the minio* keys)")
        if mode == "secret":
            problems.add(
                read.key("credentialsMode"), mode, "workloadIdentity (the default) with storageBackend minio, "
                "which always uses the MinIO user this stack creates",
            )
        return BackendSettings("minio", None, prefix, plugin, "generated", None)

    if kind == "s3Compatible":
        return _s3_compatible(read, prefix, plugin, mode)

    bucket = _bucket(read, kind)
    credentials = None
    if mode == "workloadIdentity" and read.optional("cloudCredentials") is not None:
        problems.add(read.key("cloudCredentials"), "<set>", "no value with credentialsMode workloadIdentity")
    elif mode == "secret":
        credentials = read.secret("cloudCredentials")
        if read.optional("cloudCredentials") is None:
            problems.add(
                read.key("cloudCredentials"), "", "the credentials file, as a secret, since credentialsMode is secret"
            )

    backend = BackendSettings(kind, bucket, prefix, plugin, mode, credentials)
    if kind == "aws":
        return _with_aws(read, backend, mode, cluster_mode)
    if kind == "gcp":
        return _with_gcp(read, backend, mode)
    return _with_azure(read, backend, mode)


def _bucket(read: Reader, kind: str) -> Optional[str]:
    """backupBucket, named by the rules of the backend's store."""
    bucket = read.optional("backupBucket")
    word = {"aws": "S3 bucket", "gcp": "GCS bucket", "azure": "Blob container", "s3Compatible": "bucket"}[kind]
    if bucket is None:
        read.problems.add(read.key("backupBucket"), "", f"the name of the {word} backups go to")
    elif not (AZURE_CONTAINER if kind == "azure" else values.BUCKET_NAME).match(bucket):
        read.problems.add(read.key("backupBucket"), bucket, f"a valid {word} name")
    return bucket


def _plugin(read: Reader, kind: str, server: Optional[ImageRef]) -> Optional[str]:
    """The chosen backend's plugin image; every plugin key must at least be a pinned reference."""
    problems = read.problems
    images = {key: read.check(key, values.image_reference) for key in sorted(set(PLUGIN_KEYS.values()))}
    key = PLUGIN_KEYS[kind]
    image = images[key]
    if image is None or server is None:
        return image
    plugin = split_image(image)
    wanted = PLUGIN_MINOR_FOR_VELERO[server.minor]
    if plugin.minor != wanted:
        problems.add(
            read.key(key), image,
            f"the plugin release v{wanted}.x that matches Velero {server.version} (Velero's compatibility matrix)",
        )
    elif kind in ("minio", "s3Compatible") and plugin.version in AWS_PLUGIN_BAD_ON_S3_COMPATIBLE:
        problems.add(
            read.key(key), image,
            f"a v{wanted}.x release other than {', '.join(sorted(AWS_PLUGIN_BAD_ON_S3_COMPATIBLE))}, which "
            "mishandle checksumAlgorithm on S3-compatible stores such as MinIO",
        )
    return image


def _required(read: Reader, name: str, pattern: re.Pattern[str], expected: str, needed_for: str) -> Optional[str]:
    value = read.optional(name)
    if value is None:
        read.problems.add(read.key(name), "", f"{expected} ({needed_for})")
    elif not pattern.match(value):
        read.problems.add(read.key(name), value, expected)
    return value


def _optional(read: Reader, name: str, pattern: re.Pattern[str], expected: str) -> Optional[str]:
    value = read.optional(name)
    if value is not None and not pattern.match(value):
        read.problems.add(read.key(name), value, expected)
    return value


def _identity(
    read: Reader, mode: Optional[str], name: str, pattern: re.Pattern[str], expected: str, mechanism: str
) -> Optional[str]:
    """The identity a backend's workload identity needs: required with it, refused without it."""
    if mode == "workloadIdentity":
        return _required(read, name, pattern, expected, f"{mechanism}, since credentialsMode is workloadIdentity")
    if read.optional(name) is not None:
        read.problems.add(read.key(name), read.get(name), "no value with credentialsMode secret")
    return None


def _with_aws(read: Reader, backend: BackendSettings, mode: Optional[str], cluster_mode: Optional[str]) -> BackendSettings:
    region = _required(read, "awsRegion", AWS_REGION, "an AWS region such as eu-west-1", "the bucket's region")
    kms_key = _optional(read, "awsKmsKeyId", AWS_KMS_KEY, "a KMS key id, key ARN, alias ARN or alias/<name>")
    sse = read.optional("awsServerSideEncryption")
    if sse is not None and sse not in AWS_SSE:
        read.problems.add(read.key("awsServerSideEncryption"), sse, " or ".join(AWS_SSE))
    if kms_key and sse:
        read.problems.add(
            read.key("awsServerSideEncryption"), sse, "no value when awsKmsKeyId is set (the key implies aws:kms)"
        )
    if cluster_mode == "existing" and not kms_key and not sse:
        # Production data is encrypted with a choice the stack states, not by accident of a default.
        read.problems.add(
            read.key("awsKmsKeyId"), "", "a KMS key (or awsServerSideEncryption AES256): production backups are encrypted"
        )
    role = _identity(
        read, mode, "awsRoleArn", AWS_ROLE_ARN, "an IAM role ARN such as arn:aws:iam::123456789012:role/velero", "IRSA"
    )
    return replace(backend, aws=AwsSettings(region, kms_key, sse, role))


def _with_gcp(read: Reader, backend: BackendSettings, mode: Optional[str]) -> BackendSettings:
    kms_key = _optional(
        read, "gcpKmsKeyName", GCP_KMS_KEY, "projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>"
    )
    account = _optional(
        read, "gcpServiceAccount", GCP_SERVICE_ACCOUNT, "a Google service account such as velero@project.iam.gserviceaccount.com"
    )
    if mode == "workloadIdentity" and read.optional("gcpServiceAccount") is None:
        read.problems.add(
            read.key("gcpServiceAccount"), "",
            "the Google service account Velero acts as (GKE workload identity, since credentialsMode is workloadIdentity)",
        )
    return replace(backend, gcp=GcpSettings(kms_key, account))


def _with_azure(read: Reader, backend: BackendSettings, mode: Optional[str]) -> BackendSettings:
    group = _required(read, "azureResourceGroup", AZURE_RESOURCE_GROUP, "a resource group name", "the storage account's group")
    account = _required(
        read, "azureStorageAccount", AZURE_STORAGE_ACCOUNT, "a storage account name (3-24 lower-case letters and digits)",
        "where the container is",
    )
    subscription = _required(read, "azureSubscriptionId", UUID, "a subscription id (a UUID)", "the account's subscription")
    client = _identity(
        read, mode, "azureClientId", UUID, "the client id (a UUID) of the managed identity Velero uses",
        "Azure workload identity",
    )
    return replace(backend, azure=AzureSettings(group, account, subscription, client))


def _s3_compatible(read: Reader, prefix: Optional[str], plugin: Optional[str], mode: Optional[str]) -> BackendSettings:
    """An S3-compatible store the stack does not create, through the AWS plugin and its s3Url."""
    problems = read.problems
    bucket = _bucket(read, "s3Compatible")
    url = _url(read, "s3Url", required=True)
    public_url = _url(read, "s3PublicUrl", required=False)
    region = read.check("s3Region", values.matching, values.REGION, "a region name such as us-east-1")
    checksum = read.get("s3ChecksumAlgorithm")
    if checksum is not None and checksum not in S3_CHECKSUM_ALGORITHMS:
        problems.add(read.key("s3ChecksumAlgorithm"), checksum,
                     "one of " + ", ".join(repr(c) for c in S3_CHECKSUM_ALGORITHMS) + " ('' turns checksums off)")
    insecure = read.boolean("s3InsecureSkipTLSVerify")
    plain_http = url is not None and url.startswith("http://")
    ca_bundle = _ca_bundle(read)
    if plain_http and ca_bundle is not None:
        problems.add(read.key("s3CaBundle"), "<PEM>", f"no value with an http:// s3Url ({url}): a CA is for https")
    if plain_http and insecure:
        problems.add(read.key("s3InsecureSkipTLSVerify"), "true", f"false with an http:// s3Url ({url}): there is no TLS to verify")
    if insecure and ca_bundle is not None:
        problems.add(read.key("s3InsecureSkipTLSVerify"), "true", "false when s3CaBundle is set (verify with the CA instead)")
    if mode != "secret":
        problems.add(read.key("credentialsMode"), mode or "",
                     "secret with storageBackend s3Compatible: workload identity does not apply to S3-compatible "
                     "stores; set s3AccessKeyId and s3SecretAccessKey as secrets")
    if read.optional("cloudCredentials") is not None:
        problems.add(read.key("cloudCredentials"), "<set>",
                     "no value with storageBackend s3Compatible (its keys are s3AccessKeyId and s3SecretAccessKey)")
    keys = {}
    for name in ("s3AccessKeyId", "s3SecretAccessKey"):
        keys[name] = read.secret(name)
        if read.optional(name) is None:
            problems.add(read.key(name), "", f"a secret: pulumi config set --secret {name} ... (the store's access key pair)")
    settings = S3CompatibleSettings(
        url=url, public_url=public_url, region=region, force_path_style=read.boolean("s3ForcePathStyle"),
        checksum_algorithm=checksum, ca_bundle=ca_bundle, insecure_skip_tls_verify=bool(insecure),
        allow_plain_http=bool(read.boolean("s3AllowPlainHttp")),
        access_key=keys["s3AccessKeyId"], secret_key=keys["s3SecretAccessKey"],
    )
    return BackendSettings("s3Compatible", bucket, prefix, plugin, "secret", None, s3=settings)


def _url(read: Reader, name: str, required: bool) -> Optional[str]:
    value = read.optional(name)
    if value is None:
        if required:
            read.problems.add(read.key(name), "", "the store's endpoint, an http:// or https:// URL such as "
                                                  "https://minio.example.internal:9000 (required with storageBackend s3Compatible)")
        return None
    if not URL.match(value):
        read.problems.add(read.key(name), value, "an http:// or https:// URL such as https://minio.example.internal:9000")
        return None
    return value


def _ca_bundle(read: Reader) -> Optional[str]:
    """The PEM CA bundle: one or more certificates, each of which TLS can load."""
    value = read.optional("s3CaBundle")
    if value is None:
        return None
    try:
        valid = bool(PEM_CERTIFICATE.search(value))
        if valid:
            ssl.create_default_context(cadata=value)
    except (ssl.SSLError, ValueError):
        valid = False
    if not valid:
        read.problems.add(read.key("s3CaBundle"), value[:40] + ("..." if len(value) > 40 else ""),
                          "a PEM bundle of one or more -----BEGIN CERTIFICATE----- blocks (e.g. \"$(cat ca.pem)\")")
        return None
    return value

