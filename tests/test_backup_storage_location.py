"""BackupStorageLocation: the default location, from whatever backend."""

from __future__ import annotations

import dataclasses
from typing import Mapping, Optional

import pulumi

from velero_pulumi.components import BackupStorageLocation, BackupStorageLocationArgs, Plugin

from .fixtures import MINIO_BACKEND
from .harness import run

MINIO = MINIO_BACKEND
LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation"


def build(args: BackupStorageLocationArgs):
    return run(lambda: BackupStorageLocation("backup-location", args)).one(LOCATION)


def test_minio_location():
    location = build(BackupStorageLocationArgs(namespace="velero", backend=MINIO, credentials_secret="velero-credentials"))
    assert location.values["metadata"] == {"name": "default", "namespace": "velero"}  # no empty labels: a diff
    assert location.values["spec"] == {
        "provider": "aws",
        "default": True,
        "accessMode": "ReadWrite",
        "objectStorage": {"bucket": "velero"},
        "config": {
            "region": "us-east-1",
            "s3ForcePathStyle": "true",
            "s3Url": "http://brrtrouter-minio:9000",
            "publicUrl": "http://localhost:9000",
        },
        "credential": {"name": "velero-credentials", "key": "cloud"},
    }


def test_prefix_goes_to_object_storage():
    location = build(
        BackupStorageLocationArgs(
            namespace="velero", backend=dataclasses.replace(MINIO, prefix="dev"), credentials_secret="velero-credentials"
        )
    )
    assert location.values["spec"]["objectStorage"] == {"bucket": "velero", "prefix": "dev"}


@dataclasses.dataclass(frozen=True)
class IdentityBackend:
    """Any backend: the component needs only the StorageBackend interface."""

    provider: str = "gcp"
    bucket: str = "backups"
    prefix: Optional[str] = None
    plugin: Plugin = Plugin("velero-plugin-for-gcp", "velero/velero-plugin-for-gcp:v1.14.4")
    ca_cert: Optional[str] = None
    location_annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def location_config(self) -> Mapping[str, pulumi.Input[str]]:
        return {"serviceAccount": "velero@project.iam.gserviceaccount.com"}

    def credentials_file(self) -> Optional[pulumi.Input[str]]:
        return None


def test_another_backend_through_the_same_interface_without_credentials():
    location = build(BackupStorageLocationArgs(namespace="velero", backend=IdentityBackend(), credentials_secret=None))
    spec = location.values["spec"]
    assert spec["provider"] == "gcp"
    assert spec["config"] == {"serviceAccount": "velero@project.iam.gserviceaccount.com"}
    assert "credential" not in spec


def test_a_replacement_deletes_the_location_first_its_name_being_fixed():
    location = build(BackupStorageLocationArgs(namespace="velero", backend=MINIO, credentials_secret="velero-credentials"))
    assert location.delete_before_replace


def test_with_a_timeout_up_waits_for_velero_to_find_it_available():
    waits = build(BackupStorageLocationArgs(namespace="velero", backend=MINIO, credentials_secret="velero-credentials",
                                            available_timeout_seconds=120))
    assert waits.values["metadata"]["annotations"] == {
        "pulumi.com/waitFor": "jsonpath={.status.phase}=Available", "pulumi.com/timeoutSeconds": "120"}


def test_velero_checks_it_as_often_as_asked():
    checked = build(BackupStorageLocationArgs(namespace="velero", backend=MINIO, credentials_secret="velero-credentials",
                                              validation_frequency="10s"))
    assert checked.values["spec"]["validationFrequency"] == "10s"
