"""Objects for the local cluster's API, from YAML files or dicts (the few kinds the tests create)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from realtier.kubeapi import KubeApi
from realtier.toolchain import shared_dir

OPERATOR_CRDS = sorted((shared_dir() / "crds-prometheus-operator").glob("monitoring.coreos.com_*.yaml"))

COLLECTIONS = {
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ("v1", "Namespace"): "/api/v1/namespaces",
    ("v1", "ConfigMap"): "/api/v1/namespaces/{namespace}/configmaps",
    ("v1", "Secret"): "/api/v1/namespaces/{namespace}/secrets",
}


def collection(obj: dict) -> str:
    template = COLLECTIONS[(obj["apiVersion"], obj["kind"])]
    return template.format(namespace=obj["metadata"].get("namespace", ""))


def create(api: KubeApi, obj: dict) -> dict:
    return api.create(collection(obj), obj)


def install_crds(api: KubeApi, files: Iterable[Path]) -> list[str]:
    """Create the CRDs in these files and wait until the API server serves them."""
    names = []
    for path in files:
        for crd in yaml.safe_load_all(path.read_text()):
            if crd:
                create(api, crd)
                names.append(crd["metadata"]["name"])
    for name in names:
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        api.wait_for(f"CRD {name} Established", lambda: any(
            c["type"] == "Established" and c["status"] == "True"
            for c in api.get(path).get("status", {}).get("conditions") or []))
    return names
