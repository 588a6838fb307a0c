"""ApplicationNamespace: the namespace the application runs in, made sure of, never deleted.

The stack puts things there (Velero's restore RoleBinding with restricted RBAC, the alert rules
ConfigMap, the dev stack's PVCs), so it must exist before them, also on an empty cluster: the
recover-from-scratch case, where Velero is installed first and restores the application after.
It belongs to the application, not to this stack:

- a NamespacePatch (server-side apply): it creates the namespace where there is none and adopts
  the application's own where there is one, instead of failing with AlreadyExists;
- retain_on_delete: `pulumi destroy` leaves the namespace and everything in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ApplicationNamespaceArgs:
    name: str


class ApplicationNamespace(pulumi.ComponentResource):
    name: str
    namespace: k8s.core.v1.NamespacePatch

    def __init__(self, name: str, args: ApplicationNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:ApplicationNamespace", name, None, opts)
        self.namespace = k8s.core.v1.NamespacePatch(
            f"{name}-namespace",
            # Only the name: no labels of this stack on the application's namespace.
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=args.name),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.name = args.name
        self.register_outputs({"name": self.name})
