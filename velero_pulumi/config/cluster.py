"""Reading an existing cluster before any resource is registered (clusterMode existing).

The stack relies on APIs the cluster must already serve: with `monitoring: prometheusOperator`,
the Prometheus Operator's PrometheusRule and ServiceMonitor. Without them `pulumi up` would
create most of the stack and then retry for a minute and stop with a stack trace; this check
says it in one sentence first, naming the key and the two ways out.

It asks the API server's discovery endpoints, which every authenticated user may read (a
read-only CI kubeconfig too), with the stack's own kubeconfig (the secret `kubeconfig`, or the
context `kubeContext` of $KUBECONFIG / ~/.kube/config): client certificates, bearer tokens and
exec credential plugins (aws eks get-token, gke-gcloud-auth-plugin, kubelogin).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import yaml

TIMEOUT_SECONDS = 15


class ClusterUnreachable(Exception):
    """The cluster could not be asked: the reason, in words."""


@dataclass(frozen=True)
class RequiredApi:
    group_version: str
    kind: str
    key: str  # the config key that makes the stack need it
    value: str
    remedy: str


OPERATOR_REMEDY = (
    "install the Prometheus Operator (or only its CRDs: docs/production.md, 'Monitoring'), "
    "or set monitoring: annotations"
)


def required_apis(monitoring: str, monitoring_key: str) -> list[RequiredApi]:
    if monitoring != "prometheusOperator":
        return []
    return [
        RequiredApi("monitoring.coreos.com/v1", kind, monitoring_key, monitoring, OPERATOR_REMEDY)
        for kind in ("PrometheusRule", "ServiceMonitor")
    ]


# --- kubeconfig --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterAccess:
    server: str
    ca: Optional[bytes] = None
    insecure: bool = False
    client_cert: Optional[bytes] = None
    client_key: Optional[bytes] = None
    token: Optional[str] = None


def kubeconfig_documents(kubeconfig: Optional[str]) -> list[dict]:
    """The kubeconfig secret, or the files of $KUBECONFIG (else ~/.kube/config), parsed."""
    if kubeconfig:
        return [_mapping(yaml.safe_load(kubeconfig), "the kubeconfig")]
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or [str(Path.home() / ".kube" / "config")]
    documents = []
    for path in paths:
        try:
            documents.append(_mapping(yaml.safe_load(Path(path).read_text()), path))
        except FileNotFoundError:
            continue
    if not documents:
        raise ClusterUnreachable(f"no kubeconfig at {os.pathsep.join(paths)}")
    return documents


def _mapping(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ClusterUnreachable(f"{what} is not a kubeconfig")
    return value


def _named(documents: list[dict], section: str, name: str) -> dict:
    """The first entry called `name` in a section of the merged kubeconfig (kubectl's rule)."""
    for document in documents:
        for entry in document.get(section) or []:
            if entry.get("name") == name:
                return entry.get(section[:-1]) or {}
    raise ClusterUnreachable(f"the kubeconfig has no {section[:-1]} {name!r}")


def cluster_access(kubeconfig: Optional[str], context: Optional[str]) -> ClusterAccess:
    documents = kubeconfig_documents(kubeconfig)
    context = context or next((d.get("current-context") for d in documents if d.get("current-context")), None)
    if not context:
        raise ClusterUnreachable("the kubeconfig names no current context")
    chosen = _named(documents, "contexts", context)
    cluster = _named(documents, "clusters", chosen.get("cluster", ""))
    user = _named(documents, "users", chosen.get("user", "")) if chosen.get("user") else {}
    if not cluster.get("server"):
        raise ClusterUnreachable(f"the cluster of context {context!r} names no server")
    if user.get("auth-provider"):
        raise ClusterUnreachable(f"context {context!r} uses a legacy auth-provider; use an exec credential plugin")
    credential = _exec_credential(user["exec"]) if user.get("exec") else {}
    token = credential.get("token") or user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(user["tokenFile"]).read_text().strip()
    return ClusterAccess(
        server=cluster["server"].rstrip("/"),
        ca=_data(cluster, "certificate-authority"),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        client_cert=credential.get("clientCertificateData", "").encode() or _data(user, "client-certificate"),
        client_key=credential.get("clientKeyData", "").encode() or _data(user, "client-key"),
        token=token,
    )


def _data(section: Mapping[str, Any], name: str) -> Optional[bytes]:
    if section.get(f"{name}-data"):
        return base64.b64decode(section[f"{name}-data"])
    if section.get(name):
        return Path(section[name]).expanduser().read_bytes()
    return None


def _exec_credential(spec: Mapping[str, Any]) -> dict:
    """Run the kubeconfig's credential plugin as kubectl does; its ExecCredential status."""
    env = {**os.environ, **{item["name"]: item["value"] for item in spec.get("env") or []}}
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": spec.get("apiVersion"), "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    try:
        done = subprocess.run([spec["command"], *(spec.get("args") or [])], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ClusterUnreachable(f"the credential plugin {spec.get('command')!r} did not run: {error}") from None
    if done.returncode != 0:
        raise ClusterUnreachable(f"the credential plugin {spec['command']!r} failed: {done.stderr.strip()[:300]}")
    try:
        return json.loads(done.stdout).get("status") or {}
    except ValueError:
        raise ClusterUnreachable(f"the credential plugin {spec['command']!r} printed no ExecCredential") from None


# --- discovery ---------------------------------------------------------------------------------


def _ssl_context(access: ClusterAccess) -> ssl.SSLContext:
    if access.insecure:
        context = ssl._create_unverified_context()  # the kubeconfig asks for it (insecure-skip-tls-verify)
    else:
        context = ssl.create_default_context(cadata=access.ca.decode() if access.ca else None)
    if access.client_cert and access.client_key:
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder) / "client.crt", Path(folder) / "client.key"
            cert.write_bytes(access.client_cert)
            key.touch(mode=0o600)
            key.write_bytes(access.client_key)
            context.load_cert_chain(cert, key)
    return context


def get_json(access: ClusterAccess, path: str) -> Optional[dict]:
    """GET an API path as JSON; None where the server answers 404, ClusterUnreachable otherwise."""
    headers = {"Accept": "application/json"}
    if access.token:
        headers["Authorization"] = f"Bearer {access.token}"
    request = urllib.request.Request(access.server + path, headers=headers)
    try:
        with urllib.request.urlopen(request, context=_ssl_context(access), timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise ClusterUnreachable(f"the API server answered {error.code} to GET {path}") from None
    except (OSError, ValueError, ssl.SSLError) as error:
        raise ClusterUnreachable(f"GET {access.server}{path} failed: {getattr(error, 'reason', error)}") from None


def served_kinds(access: ClusterAccess, group_version: str) -> set[str]:
    """The kinds the cluster serves in group/version (empty when it does not serve it)."""
    body = get_json(access, f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}") or {}
    return {resource.get("kind") for resource in body.get("resources") or []}


def discover(kubeconfig: Optional[str], context: Optional[str], group_versions: list[str]) -> dict[str, set[str]]:
    access = cluster_access(kubeconfig, context)
    return {group_version: served_kinds(access, group_version) for group_version in group_versions}


# The tests replace this with a stand-in cluster; everything else asks the real one.
discover_apis: Callable[[Optional[str], Optional[str], list[str]], dict[str, set[str]]] = discover
