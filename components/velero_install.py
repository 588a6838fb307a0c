"""VeleroInstall: Velero's namespace, its secrets and the official chart.

Why helm.v4.Chart and not helm.v3.Release: the chart's objects become Pulumi resources, so
`pulumi preview` in a pull request shows each Deployment, DaemonSet, CRD and RBAC change on its
own line instead of one opaque release, and nothing needs Tiller-era release state in the
cluster. v4.Chart does not run Helm hooks; the only hooks this chart has are the CRD upgrade
and clean-up jobs, so `upgradeCRDs` is off (Pulumi applies the chart's crds/ itself, upgrades
included) and `cleanUpCRDs` stays off: deleting CRDs would delete every backup's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from config.versions import ImageRef

from .storage_backends import Plugin, StorageBackend

CREDENTIALS_SECRET = "velero-credentials"
CREDENTIALS_KEY = "cloud"
# Velero reads the kopia repository password from here; it writes static-passw0rd into it
# if the secret does not exist when the server starts.
REPOSITORY_SECRET = "velero-repo-credentials"
REPOSITORY_KEY = "repository-password"
METRICS_PORT = 8085
SCRAPE_ANNOTATIONS = {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": str(METRICS_PORT),
    "prometheus.io/path": "/metrics",
}


@dataclass(frozen=True)
class VeleroInstallArgs:
    namespace: str
    chart_repository: str
    chart_version: str
    image: ImageRef
    backend: StorageBackend
    # None: a password is generated and kept in the state.
    repository_password: Optional[pulumi.Input[str]]
    monitoring: str
    labels: Mapping[str, str] = field(default_factory=dict)


def chart_values(image: ImageRef, plugin: Plugin, credentials_secret: Optional[str], monitoring: str) -> dict:
    """Values for the official chart: server, node agent and plugin; no locations, no schedules."""
    image_values = {"repository": image.repository, "pullPolicy": "IfNotPresent"}
    if image.tag:
        image_values["tag"] = image.tag
    if image.digest:
        image_values["digest"] = image.digest
    return {
        "image": image_values,
        "initContainers": [
            {
                "name": plugin.name,
                "image": plugin.image,
                "imagePullPolicy": "IfNotPresent",
                "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            }
        ],
        "upgradeCRDs": False,
        "cleanUpCRDs": False,
        # File-system backup (kopia) of pod volumes; KIND has no volume snapshotter.
        "deployNodeAgent": True,
        "nodeAgent": {"podVolumePath": "/var/lib/kubelet/pods"},
        "snapshotsEnabled": False,
        "configuration": {
            # Ours are first-class resources: each location and schedule is a line of its own in
            # `pulumi preview`.
            "backupStorageLocation": [],
            "volumeSnapshotLocation": [],
            "uploaderType": "kopia",
        },
        "schedules": {},
        "credentials": (
            {"useSecret": True, "existingSecret": credentials_secret}
            if credentials_secret
            else {"useSecret": False}
        ),
        "metrics": {
            "enabled": True,
            "podAnnotations": SCRAPE_ANNOTATIONS if monitoring == "annotations" else {},
            "serviceMonitor": {"enabled": monitoring == "prometheusOperator"},
        },
    }


class VeleroInstall(pulumi.ComponentResource):
    """The Velero server, node agent and plugin in their namespace, ready for locations and schedules."""

    namespace: str
    credentials_secret: Optional[str]
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: VeleroInstallArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:VeleroInstall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, "app.kubernetes.io/component": "velero"}

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        credentials = args.backend.credentials_file()
        secrets = []
        if credentials is not None:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-credentials",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=CREDENTIALS_SECRET, namespace=args.namespace, labels=labels
                    ),
                    type="Opaque",
                    string_data={CREDENTIALS_KEY: pulumi.Output.secret(credentials)},
                    opts=in_namespace,
                )
            )
        password = args.repository_password
        if password is None:
            password = random.RandomPassword(
                f"{name}-repository-password", length=48, special=False, opts=child
            ).result
        # Before the server starts, so it never falls back to the default password.
        secrets.append(
            k8s.core.v1.Secret(
                f"{name}-repository-password",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=REPOSITORY_SECRET, namespace=args.namespace, labels=labels),
                type="Opaque",
                string_data={REPOSITORY_KEY: pulumi.Output.secret(password)},
                opts=in_namespace,
            )
        )

        self.namespace = args.namespace
        self.credentials_secret = CREDENTIALS_SECRET if credentials is not None else None
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart="velero",
            version=args.chart_version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=args.chart_repository),
            name="velero",
            namespace=args.namespace,
            values=chart_values(args.image, args.backend.plugin, self.credentials_secret, args.monitoring),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *secrets]),
        )
        self.register_outputs({"namespace": self.namespace, "credentialsSecret": self.credentials_secret})
