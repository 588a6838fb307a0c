"""WorkloadStorage: the storage the application's services claim, in its namespace.

Velero's file-system backup skips hostPath volumes, and KIND's default storage class makes
hostPath volumes. So every data volume is a `local` PV (spec.local + nodeAffinity to the KIND
node) of a storage class without a provisioner, pre-bound to exactly one PVC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from ..config import DataVolume


@dataclass(frozen=True)
class WorkloadStorageArgs:
    namespace: str
    storage_class_name: str
    node_name: str
    volumes: tuple[DataVolume, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


def persistent_volume_name(namespace: str, volume: DataVolume) -> str:
    return f"{namespace}-{volume.claim_name}"


def claim_labels(volume: DataVolume) -> dict[str, str]:
    """The labels schedules and the app select a service's claim by."""
    labels = {"app": volume.service}
    if volume.component:
        labels["component"] = volume.component
    return labels


class WorkloadStorage(pulumi.ComponentResource):
    namespace: str
    claims: dict[str, k8s.core.v1.PersistentVolumeClaim]

    def __init__(self, name: str, args: WorkloadStorageArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:WorkloadStorage", name, None, opts)
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.storage_class_name, labels=dict(args.labels)),
            provisioner="kubernetes.io/no-provisioner",
            volume_binding_mode="WaitForFirstConsumer",
            reclaim_policy="Retain",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.claims = {}
        for volume in args.volumes:
            pv_name = persistent_volume_name(args.namespace, volume)
            labels = {**args.labels, **claim_labels(volume)}
            volume_resource = k8s.core.v1.PersistentVolume(
                f"{name}-{volume.service}-pv",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=pv_name, labels=labels),
                spec=k8s.core.v1.PersistentVolumeSpecArgs(
                    capacity={"storage": volume.size},
                    access_modes=["ReadWriteOnce"],
                    volume_mode="Filesystem",
                    # Retain: deleting the claim never deletes the data in the Docker volume.
                    persistent_volume_reclaim_policy="Retain",
                    storage_class_name=args.storage_class_name,
                    local=k8s.core.v1.LocalVolumeSourceArgs(path=volume.node_path),
                    node_affinity=k8s.core.v1.VolumeNodeAffinityArgs(
                        required=k8s.core.v1.NodeSelectorArgs(
                            node_selector_terms=[
                                k8s.core.v1.NodeSelectorTermArgs(
                                    match_expressions=[
                                        k8s.core.v1.NodeSelectorRequirementArgs(
                                            key="kubernetes.io/hostname", operator="In", values=[args.node_name]
                                        )
                                    ]
                                )
                            ]
                        )
                    ),
                    # Reserved for its claim: no other PVC can bind this PV.
                    claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=args.namespace, name=volume.claim_name),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[storage_class], retain_on_delete=True),
            )
            self.claims[volume.service] = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-{volume.service}-pvc",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=volume.claim_name,
                    namespace=args.namespace,
                    labels=labels,
                    # Binding may wait for a pod that uses it (WaitForFirstConsumer): `pulumi up` does not.
                    annotations={"pulumi.com/skipAwait": "true"},
                ),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=args.storage_class_name,
                    volume_name=pv_name,
                    resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": volume.size}),
                ),
                # Kept on delete, like its PV: while the application's pods use the claim, Kubernetes
                # holds its deletion (kubernetes.io/pvc-protection), and `pulumi destroy` (or an up
                # that drops a service) would wait the provider's ten minutes and fail. The kind
                # cluster goes on destroy anyway; the data stays in its Docker volume.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[volume_resource], retain_on_delete=True),
            )
        self.namespace = args.namespace
        self.register_outputs({"namespace": self.namespace, "claims": {s: c.metadata.name for s, c in self.claims.items()}})
