"""Code regressions a pull request could bring, for the policy pack's real-preview tests.

The program validates its configuration, so most rules cannot be broken through a stack file;
they guard against changes to the code. Each regression here is such a change, made by patching
one function or constant of the project's components before the program runs: the test copies
this file into a copy of the project and starts its __main__.py with `inject(name)`.
"""

from __future__ import annotations

import functools

import pulumi

import velero_pulumi.components.backup_schedule as backup_schedule
import velero_pulumi.components.data_volumes as data_volumes
import velero_pulumi.components.minio_server as minio_server
import velero_pulumi.components.storage_backends as storage_backends
import velero_pulumi.components.velero_install as velero_install
import pulumi_docker as docker


def _after(module, name: str, change) -> None:
    original = getattr(module, name)

    @functools.wraps(original)
    def changed(*args, **kwargs):
        result = original(*args, **kwargs)
        change(result)
        return result

    setattr(module, name, changed)


def _hooks_without_pods(spec: dict) -> None:
    if spec["template"].get("hooks"):
        spec["template"]["includedResources"] = ["deployments", "persistentvolumeclaims"]


def _plain_volume(resource_name, volume_name, labels, parent):
    return docker.Volume(resource_name, name=volume_name, driver="local", opts=pulumi.ResourceOptions(parent=parent))


def _config_without(*keys: str):
    def patch(cls) -> None:
        original = cls.location_config

        def location_config(self):
            return {key: value for key, value in original(self).items() if key not in keys}

        cls.location_config = location_config

    return patch


def _s3_url_on_localhost(cls) -> None:
    original = cls.location_config
    cls.location_config = lambda self: {**original(self), "s3Url": "http://localhost:9000"}


REGRESSIONS = {
    "hook-schedules-keep-pods": lambda: _after(backup_schedule, "schedule_spec", _hooks_without_pods),
    "schedules-do-not-own-backups": lambda: _after(
        backup_schedule, "schedule_spec", lambda spec: spec.update(useOwnerReferencesInBackup=True)),
    "s3-url-reachable-from-cluster": lambda: _s3_url_on_localhost(storage_backends.MinioBackend),
    "production-storage-encrypted": lambda: _config_without("kmsKeyId", "serverSideEncryption")(
        storage_backends.CloudBackend),
    "data-volumes-retained": lambda: (setattr(data_volumes, "data_volume", _plain_volume),
                                      setattr(minio_server, "data_volume", _plain_volume)),
    "plugin-matches-velero": lambda: _after(
        velero_install, "chart_values",
        lambda values: values["initContainers"][0].update(image="velero/velero-plugin-for-aws:v1.12.0")),
}


def inject(name: str) -> None:
    REGRESSIONS[name]()
