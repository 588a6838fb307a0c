"""Where backups go: the backend-specific part of Velero's setup behind one small interface.

A backend says which provider and plugin Velero uses, the storage location's bucket and
config, and the credentials file Velero reads (or none, where the cloud gives the pod an
identity). The callers (VeleroInstall, BackupStorageLocation) know nothing else about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Protocol

import pulumi


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

    def location_config(self) -> Mapping[str, pulumi.Input[str]]:
        """spec.config of the BackupStorageLocation."""
        ...

    def credentials_file(self) -> Optional[pulumi.Input[str]]:
        """The contents of the `cloud` key of Velero's credentials secret, or None for none."""
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
