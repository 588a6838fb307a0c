"""Where backups go: the backend-specific part of Velero's setup behind one small interface.

A backend says which provider and plugin Velero uses, the storage location's bucket and
config, and the credentials file Velero reads (or none, where the cloud gives the pod an
identity). The callers (VeleroInstall, BackupStorageLocation) know nothing else about it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Mapping, Optional, Protocol

import pulumi

from ..config import BackendSettings


@dataclass(frozen=True)
class Plugin:
    """A Velero plugin, installed as an init container that copies itself into /target."""

    name: str
    image: str


class StorageBackend(Protocol):
    provider: str
    bucket: str
    prefix: Optional[str]
    plugin: Plugin
    # Base64 PEM of a private CA for the location's objectStorage.caCert, or None.
    ca_cert: Optional[str]
    # Annotations of the storage location (what the stack states about it, for the policy pack).
    location_annotations: Mapping[str, str]

    def location_config(self) -> Mapping[str, pulumi.Input[str]]:
        """spec.config of the BackupStorageLocation."""
        ...

    def credentials_file(self) -> Optional[pulumi.Input[str]]:
        """The contents of the `cloud` key of Velero's credentials secret, or None for none."""
        ...

    def service_account_annotations(self) -> Mapping[str, str]:
        """Annotations that give Velero's service account a cloud identity (workload identity)."""
        ...

    def pod_labels(self) -> Mapping[str, str]:
        """Labels the Velero pod needs for that identity."""
        ...


def aws_credentials_file(access_key: pulumi.Input[str], secret_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """The shared-credentials file format the AWS plugin reads."""
    return pulumi.Output.secret(
        pulumi.Output.format(
            "[default]\naws_access_key_id={0}\naws_secret_access_key={1}\n", access_key, secret_key
        )
    )


@dataclass(frozen=True)
class MinioBackend:
    """MinIO outside the cluster, through the AWS plugin's S3 API."""

    bucket: str
    region: str
    # Reachable from inside the cluster (container name on the KIND network), never
    # host.docker.internal or localhost.
    s3_url: str
    # Reachable from the laptop, for `velero backup logs/describe` downloads.
    public_url: str
    plugin_image: str
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]
    prefix: Optional[str] = None
    provider: str = "aws"
    ca_cert: Optional[str] = None
    location_annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def plugin(self) -> Plugin:
        return Plugin("velero-plugin-for-aws", self.plugin_image)

    def location_config(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "region": self.region,
            "s3ForcePathStyle": "true",
            "s3Url": self.s3_url,
            "publicUrl": self.public_url,
        }

    def credentials_file(self) -> Optional[pulumi.Input[str]]:
        return aws_credentials_file(self.access_key, self.secret_key)

    def service_account_annotations(self) -> Mapping[str, str]:
        return {}

    def pod_labels(self) -> Mapping[str, str]:
        return {}


@dataclass(frozen=True)
class CloudBackend:
    """S3, GCS, Azure Blob or an S3-compatible store: what cloud_backend() makes of a stack's
    BackendSettings (everything but the MinIO this stack creates)."""

    provider: str
    bucket: str
    prefix: Optional[str]
    plugin: Plugin
    config: Mapping[str, str]
    credentials: Optional[pulumi.Input[str]] = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    ca_cert: Optional[str] = None
    location_annotations: Mapping[str, str] = field(default_factory=dict)

    def location_config(self) -> Mapping[str, pulumi.Input[str]]:
        return dict(self.config)

    def credentials_file(self) -> Optional[pulumi.Input[str]]:
        return self.credentials

    def service_account_annotations(self) -> Mapping[str, str]:
        return dict(self.annotations)

    def pod_labels(self) -> Mapping[str, str]:
        return dict(self.labels)


PLUGIN_NAMES = {
    "aws": "velero-plugin-for-aws",
    "gcp": "velero-plugin-for-gcp",
    "azure": "velero-plugin-for-microsoft-azure",
    "s3Compatible": "velero-plugin-for-aws",
}
# On a storage location: the stack says an http:// endpoint outside the cluster is on purpose.
ALLOW_PLAIN_HTTP_ANNOTATION = "brrtrouter.io/allow-plain-http"


def cloud_backend(settings: BackendSettings) -> CloudBackend:
    """The storage backend of an aws, gcp, azure or s3Compatible stack."""
    if settings.kind == "s3Compatible":
        return s3_compatible_backend(settings)
    secret = pulumi.Output.secret(settings.credentials) if settings.credentials else None
    identity = settings.credentials_mode == "workloadIdentity"
    common = dict(
        provider=settings.kind,
        bucket=settings.bucket,
        prefix=settings.prefix,
        plugin=Plugin(PLUGIN_NAMES[settings.kind], settings.plugin_image),
        credentials=secret,
    )
    if settings.kind == "aws":
        aws = settings.aws
        config = _present(
            region=aws.region, kmsKeyId=aws.kms_key_id, serverSideEncryption=aws.server_side_encryption
        )
        # IRSA: EKS injects a web identity token for the role named here.
        annotations = {"eks.amazonaws.com/role-arn": aws.role_arn} if identity else {}
        return CloudBackend(**common, config=config, annotations=annotations)
    if settings.kind == "gcp":
        gcp = settings.gcp
        # serviceAccount: the plugin signs download URLs as this account when it has no key file.
        config = _present(kmsKeyName=gcp.kms_key_name, serviceAccount=gcp.service_account)
        annotations = {"iam.gke.io/gcp-service-account": gcp.service_account} if identity else {}
        return CloudBackend(**common, config=config, annotations=annotations)
    azure = settings.azure
    config = {
        "resourceGroup": azure.resource_group,
        "storageAccount": azure.storage_account,
        "subscriptionId": azure.subscription_id,
    }
    if not identity:
        return CloudBackend(**common, config=config)
    # Workload identity: no key, but the plugin still reads where the account is from its file.
    return CloudBackend(
        **{**common, "credentials": azure_identity_file(azure.subscription_id, azure.resource_group)},
        config={**config, "useAAD": "true"},
        annotations={"azure.workload.identity/client-id": azure.client_id},
        labels={"azure.workload.identity/use": "true"},
    )


def s3_compatible_backend(settings: BackendSettings) -> CloudBackend:
    """An existing S3-compatible store through the AWS plugin: s3Url, path style, the checksum the
    store accepts, its private CA, and the access key pair as the plugin's credentials file."""
    s3 = settings.s3
    config = {"region": s3.region, "s3Url": s3.url, "s3ForcePathStyle": "true" if s3.force_path_style else "false",
              "checksumAlgorithm": s3.checksum_algorithm}
    if s3.public_url:
        config["publicUrl"] = s3.public_url
    if s3.insecure_skip_tls_verify:
        config["insecureSkipTLSVerify"] = "true"
    return CloudBackend(
        provider="aws",
        bucket=settings.bucket,
        prefix=settings.prefix,
        plugin=Plugin(PLUGIN_NAMES["s3Compatible"], settings.plugin_image),
        config=config,
        credentials=aws_credentials_file(pulumi.Output.secret(s3.access_key), pulumi.Output.secret(s3.secret_key)),
        ca_cert=base64.b64encode(s3.ca_bundle.encode()).decode() if s3.ca_bundle else None,
        location_annotations={ALLOW_PLAIN_HTTP_ANNOTATION: "true"} if s3.allow_plain_http else {},
    )


def _present(**fields: Optional[str]) -> dict[str, str]:
    return {key: value for key, value in fields.items() if value}


def azure_identity_file(subscription_id: str, resource_group: str) -> str:
    """The Azure plugin's credentials file without a secret, for workload identity."""
    return (
        f"AZURE_SUBSCRIPTION_ID={subscription_id}\n"
        f"AZURE_RESOURCE_GROUP={resource_group}\n"
        "AZURE_CLOUD_NAME=AzurePublicCloud\n"
    )
