"""Objects for the local cluster's API, from YAML files or dicts (the few kinds the tests create)."""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Iterable

import yaml

from realtier.run.kubeapi import KubeApi
from realtier.build.cache import shared_dir

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


@functools.cache
def _resources(api: KubeApi, group_version: str) -> dict[str, tuple[str, bool]]:
    """kind -> (resource, namespaced), from the API server's discovery."""
    path = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    return {r["kind"]: (r["name"], r["namespaced"]) for r in api.get(path)["resources"] if "/" not in r["name"]}


def object_path(api: KubeApi, api_version: str, kind: str, name: str, namespace: str | None = None) -> str:
    resource, namespaced = _resources(api, api_version)[kind]
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    return f"{base}/namespaces/{namespace}/{resource}/{name}" if namespaced else f"{base}/{resource}/{name}"


def differences(declared, live, path: str = "") -> list[str]:
    """Where a live object does not hold what was declared (a subset comparison: the server adds
    defaults and status, it must not change or drop what the program sent)."""
    if isinstance(declared, dict):
        if not isinstance(live, dict):
            return [f"{path}: declared a mapping, live {live!r}"]
        found = []
        for key, value in declared.items():
            found += differences(value, live.get(key), f"{path}.{key}") if key in live else [f"{path}.{key}: missing"]
        return found
    if isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            return [f"{path}: declared {len(declared)} items, live {live!r}"[:300]]
        return [d for index, item in enumerate(declared) for d in differences(item, live[index], f"{path}[{index}]")]
    return [] if declared == live or str(declared) == str(live) else [f"{path}: declared {declared!r}, live {live!r}"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
