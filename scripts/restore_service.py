"""Restore one service's data in place on the dev cluster: scripts/restore-service, `just restore-service`.

    scripts/restore-service SERVICE [BACKUP] [--yes]

Velero never overwrites an object that exists, so this does what the runbook did by hand: delete the
service's workloads; for a service with a data volume (volumeSize), also its PVC, free its local PV
(the claimRef of the old claim) and empty the volume in the KIND node. A service whose data is in
its pods' own volumes (dataSize alone: Postgres, Redis) loses those with its pods. Then it restores
the service from BACKUP with its label selector: its workloads (as they were in the backup), claim
and data come back, and it waits. BACKUP defaults to the newest Completed backup that holds the
service. It asks before deleting anything, unless --yes.

It refuses, before touching anything, when the service keeps no data in the catalogue, when
no completed backup holds it, or when the context is not the dev cluster (a kind-<name> context
whose node <name>-control-plane exists).

Environment: KUBE_CONTEXT (kind-brrtrouter-dev), VELERO_NAMESPACE (velero), APP_NAMESPACE
(brrtrouter-dev). Every command is run with its arguments as a list: no shell quoting involved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from backup_restore import restore_problem  # noqa: E402
from cluster_cli import Cluster, Refused, run, utc_stamp  # noqa: E402
from velero_pulumi.config.catalogue import load_catalogue  # noqa: E402
from velero_pulumi.config.problems import Problems  # noqa: E402


def data_services() -> dict[str, bool]:
    """The services that keep data, each with whether it is in a data volume (a PVC) of its own."""
    problems = Problems()
    catalogue = load_catalogue(problems, "catalogue", PROJECT_DIR / "config" / "catalogue.yaml")
    problems.raise_if_any()
    return {service.name: service.volume_size is not None for service in catalogue.services
            if service.volume_size is not None or service.data_size is not None}


def dev_node(cluster: Cluster) -> str:
    """The KIND node of the dev cluster the context names; Refused for any other cluster."""
    if not cluster.context.startswith("kind-"):
        raise Refused(f"context {cluster.context!r} is not a KIND cluster's (kind-<name>): restore-service "
                      "works on the dev cluster only; on another cluster restore into a new namespace "
                      "(just backup-restore NAME ns:new-ns)")
    node = f"{cluster.context[len('kind-'):]}-control-plane"
    try:
        cluster.kubectl("get", "node", node, "-o", "name")
    except Refused:
        raise Refused(f"context {cluster.context!r} has no node {node}: not the dev cluster") from None
    return node


def holds(backup: dict, service: str, app_namespace: str) -> bool:
    """Whether a backup carries the service's objects and volume data."""
    spec = backup.get("spec", {})
    namespaces = spec.get("includedNamespaces") or ["*"]
    resources = spec.get("includedResources") or ["*"]
    selector = spec.get("labelSelector") or {}
    in_scope = app_namespace in namespaces or "*" in namespaces
    keeps_claims = any(r in resources for r in ("*", "persistentvolumeclaims", "pods"))
    matches = all(selector.get("matchLabels", {}).get(k) in (None, v) for k, v in {"app": service}.items())
    for expression in selector.get("matchExpressions") or []:
        if expression.get("key") == "app" and expression.get("operator") == "In":
            matches = matches and service in expression.get("values", [])
    return in_scope and keeps_claims and matches


def choose_backup(cluster: Cluster, service: str, wanted: Optional[str]) -> str:
    backups = cluster.json("-n", cluster.velero_namespace, "get", "backups.velero.io")["items"]
    usable = [b for b in backups if b.get("status", {}).get("phase") == "Completed"
              and holds(b, service, cluster.app_namespace)]
    if wanted:
        if wanted not in {b["metadata"]["name"] for b in usable}:
            raise Refused(f"backup {wanted!r} is not a completed backup that holds {service} (just backup-list)")
        return wanted
    if not usable:
        raise Refused(f"no completed backup holds {service}: make one with just backup-now {service}-... "
                      "or just backup-now brrtrouter-complete")
    return max(usable, key=lambda b: b["status"].get("completionTimestamp", ""))["metadata"]["name"]


def workloads(cluster: Cluster, service: str) -> list[str]:
    """The service's Deployments and StatefulSets (kind/name)."""
    found = cluster.json("-n", cluster.app_namespace, "get", "deployments,statefulsets", "-l", f"app={service}")
    return [f"{item['kind'].lower()}/{item['metadata']['name']}" for item in found["items"]]


def restore(cluster: Cluster, service: str, backup: str, node: str, confirmed: bool, has_claim: bool) -> str:
    claim = f"{service}-storage"
    volume = f"{cluster.app_namespace}-{claim}"
    path = f"/mnt/{service}-data"
    owners = workloads(cluster, service)
    plan = [f"delete {', '.join(owners) or 'no workload'} of {service} (restored from the backup, as it was then)",
            f"delete PVC {cluster.app_namespace}/{claim} and empty {path} in {node} (its data now)" if has_claim
            else "its pods' volumes go with them (its data now)",
            f"restore {service} from {backup}: its workloads{', claim' if has_claim else ''} and data"]
    print("restore-service will:\n" + "\n".join(f"  - {step}" for step in plan))
    if not confirmed:
        answer = input("continue? [y/N] ") if sys.stdin.isatty() else ""
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("not confirmed: nothing was changed (--yes to go ahead without asking)")
    # The workloads go, not only their pods: a restored pod whose ReplicaSet is still there at zero
    # replicas is deleted at once, and its file-system restore never finishes.
    for owner in owners:
        cluster.kubectl("-n", cluster.app_namespace, "delete", owner, "--wait=true")
    if owners:
        cluster.kubectl("-n", cluster.app_namespace, "wait", "--for=delete", "pod", "-l", f"app={service}", "--timeout=120s")
    if has_claim:
        cluster.kubectl("-n", cluster.app_namespace, "delete", "pvc", claim, "--ignore-not-found", "--wait=true")
        # The local PV is Retained: free it for the restored claim of the same name.
        cluster.kubectl("patch", "pv", volume, "--type", "json", "-p", json.dumps([
            {"op": "remove", "path": "/spec/claimRef/uid"}, {"op": "remove", "path": "/spec/claimRef/resourceVersion"}]))
        run("docker", "exec", node, "sh", "-c", f"rm -rf {path}/* {path}/.[!.]* {path}/..?*")
    name = f"{service}-restore-{utc_stamp()}"
    cluster.velero("restore", "create", name, "--from-backup", backup, "--include-namespaces", cluster.app_namespace,
                   "--selector", f"app={service}", "--wait")
    status = cluster.restore_status(name)
    back = workloads(cluster, service)
    summary = (f"restored {service} from {backup} as {name}: phase {status.get('phase')}, "
               f"{status.get('progress', {}).get('itemsRestored', '?')} items, workloads {', '.join(back) or 'none'}")
    problem = restore_problem(cluster, name, status)
    if problem:
        raise Refused(f"{summary}\n{problem}")
    return summary


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/restore-service", description=__doc__.split("\n\n")[0])
    parser.add_argument("service")
    parser.add_argument("backup", nargs="?")
    parser.add_argument("--yes", action="store_true", help="do not ask before deleting the service's claim")
    args = parser.parse_args(argv)
    cluster = Cluster(os.environ.get("KUBE_CONTEXT", "kind-brrtrouter-dev"), os.environ.get("VELERO_NAMESPACE", "velero"),
                      os.environ.get("APP_NAMESPACE", "brrtrouter-dev"))
    try:
        services = data_services()
        if args.service not in services:
            raise Refused(f"unknown service {args.service!r}: the services with data are {', '.join(services)}")
        node = dev_node(cluster)
        backup = choose_backup(cluster, args.service, args.backup)
        phase_line = restore(cluster, args.service, backup, node, args.yes, services[args.service])
    except Refused as refusal:
        print(f"restore-service: {refusal}", file=sys.stderr)
        return 1
    print(phase_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
