"""BackupStorageLocation: where Velero keeps backups, for any backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from .storage_backends import StorageBackend
from .velero_install import CREDENTIALS_KEY


# The location Velero uses where a backup or schedule names none.
DEFAULT_LOCATION = "default"


@dataclass(frozen=True)
class BackupStorageLocationArgs:
    namespace: str
    backend: StorageBackend
    # The secret VeleroInstall made from the backend's credentials; None when the pod has an identity.
    credentials_secret: Optional[str]
    location_name: str = DEFAULT_LOCATION
    # How long `pulumi up` waits for Velero to find the location Available; 0: not at all.
    available_timeout_seconds: int = 0
    # How often Velero checks it (a Go duration); None: the server's own frequency (1m).
    validation_frequency: Optional[str] = None
    labels: Mapping[str, str] = field(default_factory=dict)


# pulumi-kubernetes' await of a custom resource: until the JSONPath matches, or the timeout.
WAIT_FOR_AVAILABLE = {"pulumi.com/waitFor": "jsonpath={.status.phase}=Available"}


def location_annotations(args: BackupStorageLocationArgs) -> dict[str, str]:
    annotations = dict(args.backend.location_annotations)
    if args.available_timeout_seconds:
        annotations.update(WAIT_FOR_AVAILABLE)
        annotations["pulumi.com/timeoutSeconds"] = str(args.available_timeout_seconds)
    return annotations


def location_spec(args: BackupStorageLocationArgs) -> dict:
    backend = args.backend
    object_storage = {"bucket": backend.bucket}
    if backend.prefix:
        object_storage["prefix"] = backend.prefix
    if backend.ca_cert:
        object_storage["caCert"] = backend.ca_cert
    spec = {
        "provider": backend.provider,
        "default": True,
        "accessMode": "ReadWrite",
        "objectStorage": object_storage,
        "config": dict(backend.location_config()),
    }
    if args.validation_frequency:
        spec["validationFrequency"] = args.validation_frequency
    if args.credentials_secret:
        spec["credential"] = {"name": args.credentials_secret, "key": CREDENTIALS_KEY}
    return spec


class BackupStorageLocation(pulumi.ComponentResource):
    """The default velero.io/v1 BackupStorageLocation in Velero's namespace; with a timeout,
    `pulumi up` ends only once Velero has found it Available, and fails past the timeout."""

    location_name: str
    resource: k8s.apiextensions.CustomResource

    def __init__(
        self, name: str, args: BackupStorageLocationArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("brrtrouter:backup:BackupStorageLocation", name, None, opts)
        self.location_name = args.location_name
        self.resource = k8s.apiextensions.CustomResource(
            f"{name}-{args.location_name}",
            api_version="velero.io/v1",
            kind="BackupStorageLocation",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                # No labels is no `labels` key: an empty map in a custom resource's metadata is a
                # difference from the live object at every preview.
                name=args.location_name, namespace=args.namespace, labels=dict(args.labels) or None,
                annotations=location_annotations(args) or None,
            ),
            spec=location_spec(args),
            # Its name is fixed: a replacement (`pulumi up --replace`) must delete it first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.register_outputs({"locationName": self.location_name})
