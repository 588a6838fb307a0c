"""VeleroInstall: Velero's namespace, its secrets and the official chart.

Why helm.v4.Chart and not helm.v3.Release: the chart's objects become Pulumi resources, so
`pulumi preview` in a pull request shows each Deployment, DaemonSet, CRD and RBAC change on its
own line instead of one opaque release, and no Helm release secret in the cluster keeps a copy
of the values. v4.Chart does not run Helm hooks. The hooks that matter here are the chart's CRD
upgrade and clean-up jobs: `upgradeCRDs` is off (Pulumi applies the chart's crds/ itself,
upgrades included) and `cleanUpCRDs` stays off (deleting CRDs would delete every backup's
record); the chart's own locations and schedules, also hooks, stay empty.

The chart's CRDs are not the chart's children but this component's (the program reads them from
the chart, velero_pulumi/config/chart_files.py; the chart skips its crds/): the storage location and the
schedules need the CRDs, the namespace and the secrets (`foundation`), not the chart's await of
Velero's pods, so they are created while Velero starts. Aliases keep the URNs the CRDs had as the
chart's children, so an existing stack adopts them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import hashlib
import json

import pulumi
import pulumi_kubernetes as k8s

from ..config.charts import ChartSource
from ..config.settings import MaintenanceSettings, NodeAgentSettings
from ..config.versions import ImageRef

from .storage_backends import StorageBackend

CREDENTIALS_SECRET = "velero-credentials"
CREDENTIALS_KEY = "cloud"
# Velero reads the kopia repository password from here; it writes static-passw0rd into it
# if the secret does not exist when the server starts.
REPOSITORY_SECRET = "velero-repo-credentials"
REPOSITORY_KEY = "repository-password"
METRICS_PORT = 8085
SERVICE_ACCOUNT = "velero-server"
# A hash of the credentials on the pod template: a rotated credential rolls the server.
CREDENTIALS_HASH_ANNOTATION = "brrtrouter.io/credentials-sha256"
# The node agent reads its ConfigMap when it starts: a hash of it on the pods rolls them on a change.
NODE_AGENT_CONFIGMAP = "node-agent-config"
NODE_AGENT_CONFIG_KEY = "node-agent-config.json"
NODE_AGENT_CONFIG_HASH_ANNOTATION = "brrtrouter.io/node-agent-config-sha256"
# The chart probes /metrics first after 10 s, then every 30 s: a server up after 11 s is Ready at
# 40 s. Probing every 5 s from 2 s on makes it Ready (and `pulumi up` done) when it is.
READINESS_PROBE = {"initialDelaySeconds": 2, "periodSeconds": 5}
DEFAULT_NODE_AGENT = NodeAgentSettings(load_concurrency=1, item_block_workers=1, parallel_files_upload=0,
                                       data_mover_cpu=None, data_mover_memory=None)
# Velero's own: garbage collection every hour, kopia's maintenance every hour.
DEFAULT_MAINTENANCE = MaintenanceSettings(garbage_collection_frequency="1h", repository_maintenance_frequency="1h")
SCRAPE_ANNOTATIONS = {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": str(METRICS_PORT),
    "prometheus.io/path": "/metrics",
}


@dataclass(frozen=True)
class VeleroInstallArgs:
    namespace: str
    chart: ChartSource
    image: ImageRef
    backend: StorageBackend
    # The kopia repository's password, from the stack's config (a secret): it must open the
    # backups already in the bucket, so it outlives the stack and is never generated here.
    repository_password: pulumi.Input[str]
    monitoring: str
    rbac: str = "clusterAdmin"
    # The provider the chart's objects go through (default: the component's). On an existing
    # cluster it adopts objects that exist, so a reinstall takes over the CRDs a destroy kept.
    chart_provider: Optional[pulumi.ProviderResource] = None
    # Where restores may write, with rbac "restricted".
    restore_namespaces: tuple[str, ...] = ()
    node_agent: NodeAgentSettings = DEFAULT_NODE_AGENT
    maintenance: MaintenanceSettings = DEFAULT_MAINTENANCE
    labels: Mapping[str, str] = field(default_factory=dict)


# rbac "restricted": what Velero needs instead of cluster-admin.
# Backup reads every kind it may back up, and runs exec hooks in pods.
BACKUP_RULES = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    # Restore recreates the namespace and the PVs of the claims it restores (cluster-scoped).
    {"apiGroups": [""], "resources": ["namespaces", "persistentvolumes"], "verbs": ["create", "update", "patch"]},
]
# Restore writes the namespaced objects of a backup, only in the namespaces bound below.
RESTORE_RULES = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["create", "update", "patch", "delete"]}]


def node_agent_config(settings: NodeAgentSettings) -> dict:
    """The node agent's ConfigMap (--node-agent-configmap): how many volumes it moves at once, and
    the resources of the data mover pod each runs in."""
    config: dict = {"loadConcurrency": {"globalConfig": settings.load_concurrency}}
    resources = {}
    if settings.data_mover_cpu:
        resources.update(cpuRequest=settings.data_mover_cpu, cpuLimit=settings.data_mover_cpu)
    if settings.data_mover_memory:
        resources.update(memoryRequest=settings.data_mover_memory, memoryLimit=settings.data_mover_memory)
    if resources:
        config["podResources"] = resources
    return config


def chart_values(
    image: ImageRef,
    backend: StorageBackend,
    credentials_secret: Optional[str],
    monitoring: str,
    rbac: str = "clusterAdmin",
    credentials_hash: Optional[pulumi.Input[str]] = None,
    node_agent_config_hash: Optional[str] = None,
    item_block_workers: int = 1,
    maintenance: MaintenanceSettings = DEFAULT_MAINTENANCE,
) -> dict:
    """Values for the official chart: server, node agent and plugin; no locations, no schedules."""
    plugin = backend.plugin
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
        "readinessProbe": READINESS_PROBE,
        # File-system backup (kopia) of pod volumes; KIND has no volume snapshotter.
        "deployNodeAgent": True,
        "nodeAgent": {
            "podVolumePath": "/var/lib/kubelet/pods",
            "extraArgs": [f"--node-agent-configmap={NODE_AGENT_CONFIGMAP}"],
        },
        "snapshotsEnabled": False,
        "configuration": {
            # Ours are first-class resources: each location and schedule is a line of its own in
            # `pulumi preview`.
            "backupStorageLocation": [],
            "volumeSnapshotLocation": [],
            "uploaderType": "kopia",
            # Pods backed up at once: a backup waits for each pod's volumes before its next pod.
            "itemBlockWorkerCount": item_block_workers,
            "garbageCollectionFrequency": maintenance.garbage_collection_frequency,
            "defaultRepoMaintainFrequency": maintenance.repository_maintenance_frequency,
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
        "serviceAccount": {
            "server": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": dict(backend.service_account_annotations()),
            }
        },
        "podLabels": dict(backend.pod_labels()),
        "podAnnotations": {
            **({CREDENTIALS_HASH_ANNOTATION: credentials_hash} if credentials_hash is not None else {}),
            **({NODE_AGENT_CONFIG_HASH_ANNOTATION: node_agent_config_hash} if node_agent_config_hash else {}),
        },
        "rbac": {"create": True, "clusterAdministrator": rbac == "clusterAdmin"},
    }


CHART_TYPE = "kubernetes:helm.sh/v4:Chart"


def custom_resource_definition(
    chart_name: str, crd: Mapping[str, Any], chart_urn: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """One of the chart's CRDs as a resource of its own, named and aliased as when it was the
    chart's child, and kept on destroy."""
    crd_name = crd["metadata"]["name"]
    return k8s.apiextensions.CustomResource(
        f"{chart_name}:{crd_name}",
        api_version=crd["apiVersion"],
        kind=crd["kind"],
        metadata=crd["metadata"],
        spec=crd["spec"],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            retain_on_delete=True, aliases=[pulumi.Alias(name=f"{chart_name}:{crd_name}", parent=chart_urn)],
        )),
    )


def _image(values: Mapping[str, str]) -> str:
    """The image reference the chart makes of its image values."""
    reference = values["repository"] + (f":{values['tag']}" if values.get("tag") else "")
    return reference + (f"@{values['digest']}" if values.get("digest") else "")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class VeleroInstall(pulumi.ComponentResource):
    """The Velero server, node agent and plugin in their namespace, ready for locations and schedules."""

    namespace: str
    credentials_secret: Optional[str]
    velero_image: str
    plugin_images: list[str]
    # What a storage location or schedule needs before it is created: the CRDs, the namespace, the
    # secrets. Not the chart, whose await of Velero's pods they need not wait for.
    foundation: list[pulumi.Resource]
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: VeleroInstallArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:VeleroInstall", name, None, opts)
        labels = {**args.labels, "app.kubernetes.io/component": "velero"}

        # Kept on `pulumi destroy`, with the chart's CRDs: it holds Velero's records (Backups,
        # Restores), and deleting it would hang on the finalizer Velero puts on each Restore, which
        # only a running Velero removes. Applied, so a reinstall adopts it.
        namespace = k8s.core.v1.NamespacePatch(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=args.namespace, labels=labels),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        credentials = args.backend.credentials_file()
        configuration = []  # the secrets and the node agent's ConfigMap
        if credentials is not None:
            configuration.append(
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
        # Before the server starts, so it never falls back to the default password.
        configuration.append(
            k8s.core.v1.Secret(
                f"{name}-repository-password",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=REPOSITORY_SECRET, namespace=args.namespace, labels=labels),
                type="Opaque",
                string_data={REPOSITORY_KEY: pulumi.Output.secret(args.repository_password)},
                opts=in_namespace,
            )
        )

        # Before the node agent starts: it reads this once, at start.
        agent_config = json.dumps(node_agent_config(args.node_agent), sort_keys=True)
        configuration.append(
            k8s.core.v1.ConfigMap(
                f"{name}-node-agent-config",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=NODE_AGENT_CONFIGMAP, namespace=args.namespace, labels=labels),
                data={NODE_AGENT_CONFIG_KEY: agent_config},
                opts=in_namespace,
            )
        )

        if args.rbac == "restricted":
            self._restricted_rbac(name, args, labels)

        chart_name = f"{name}-chart"
        chart_urn = pulumi.create_urn(chart_name, CHART_TYPE, parent=self)
        crds = [
            custom_resource_definition(
                chart_name, crd, chart_urn, pulumi.ResourceOptions(parent=self, provider=args.chart_provider)
            )
            for crd in args.chart.crds
        ]
        self.foundation = [namespace, *configuration, *crds]

        self.namespace = args.namespace
        self.credentials_secret = CREDENTIALS_SECRET if credentials is not None else None
        credentials_hash = (
            pulumi.Output.unsecret(pulumi.Output.from_input(credentials).apply(_sha256))
            if credentials is not None
            else None
        )
        values = chart_values(
            args.image, args.backend, self.credentials_secret, args.monitoring, args.rbac, credentials_hash,
            _sha256(agent_config), args.node_agent.item_block_workers, args.maintenance,
        )
        # What Velero runs, from the chart's values: the policy pack checks it at preview (a remote
        # component such as the chart shows its inputs to no policy).
        self.velero_image = _image(values["image"])
        self.plugin_images = [container["image"] for container in values["initContainers"]]
        self.chart = k8s.helm.v4.Chart(
            chart_name,
            chart=args.chart.chart,
            version=args.chart.version,
            skip_crds=True,
            repository_opts=(
                k8s.helm.v4.RepositoryOptsArgs(repo=args.chart.repository) if args.chart.repository else None
            ),
            name="velero",
            namespace=args.namespace,
            values=values,
            # After the CRDs: the server stops at start where they are missing.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.foundation, provider=args.chart_provider),
        )
        self.register_outputs({
            "namespace": self.namespace,
            "credentialsSecret": self.credentials_secret,
            "veleroImage": self.velero_image,
            "pluginImages": self.plugin_images,
        })

    def _restricted_rbac(self, name: str, args: VeleroInstallArgs, labels: Mapping[str, str]) -> None:
        subject = k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=args.namespace)
        backup_role = k8s.rbac.v1.ClusterRole(
            f"{name}-backup-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="velero-backup", labels=labels),
            rules=BACKUP_RULES,
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-backup-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="velero-backup", labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="velero-backup"),
            subjects=[subject],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[backup_role]),
        )
        restore_role = k8s.rbac.v1.ClusterRole(
            f"{name}-restore-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="velero-restore", labels=labels),
            rules=RESTORE_RULES,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for namespace in args.restore_namespaces:
            k8s.rbac.v1.RoleBinding(
                f"{name}-restore-binding-{namespace}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="velero-restore", namespace=namespace, labels=labels),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="velero-restore"
                ),
                subjects=[subject],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[restore_role]),
            )
