"""Restore a backup and say plainly how it went: scripts/backup-restore, `just backup-restore`.

    scripts/backup-restore BACKUP [MAPPING]      MAPPING like brrtrouter-dev:brrtrouter-restored

Runs `velero restore create restore-<BACKUP>-<UTC time> --from-backup BACKUP --wait` (with
--namespace-mappings MAPPING when given), then reads the Restore and its PodVolumeRestores. It
exits 0 only when the restore is Completed. Otherwise it says why, from Velero's records: volumes
whose data the kopia repository would not open with the stack's repository password get what to
do about it (docs/design.md, "Keeping the repository password"); other failed volumes get their
messages; and always, where to look next.

Environment: KUBE_CONTEXT (kind-brrtrouter-dev), VELERO_NAMESPACE (velero).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from cluster_cli import Cluster, Refused, utc_stamp

WRONG_PASSWORD = "invalid repository password"  # kopia's own words for a repository it cannot decrypt
REFUSED = ("the kopia repository in the bucket does not open with this stack's repository password "
           "(veleroRepositoryPassword). Its backups were made with another one; they are not lost, and nothing in "
           "the bucket was changed.")


def password_steps(*then: str) -> list[str]:
    """What to do about a repository that refuses the stack's password: set the one the backups
    were made with, up, then `then` (numbered on)."""
    steps = [
        "set the password they were made with: pulumi config set --secret veleroRepositoryPassword -- '<password>'",
        "   (from the old stack file, or a cluster that still runs: kubectl -n velero get secret "
        "velero-repo-credentials -o jsonpath='{.data.repository-password}' | base64 -d), then pulumi up "
        "(./scripts/up for the dev stack);",
        *then,
    ]
    numbered, number = ["What to do:"], 0
    for step in steps:
        if step.startswith("   "):
            numbered.append(f"  {step}")
        else:
            number += 1
            numbered.append(f"  {number}. {step}")
    return numbered + ['docs/design.md, "Keeping the repository password", says why the password must outlive the stack.']


def restore_name(backup: str) -> str:
    return f"restore-{backup}-{utc_stamp()}"


def restore_problem(cluster: Cluster, name: str, status: dict) -> Optional[str]:
    """None when the restore (its status as read) is Completed; else what went wrong and what to do,
    from Velero's records."""
    phase = status.get("phase", "unknown")
    if phase == "Completed":
        return None
    volumes = cluster.json("-n", cluster.velero_namespace, "get", "podvolumerestores.velero.io",
                           "-l", f"velero.io/restore-name={name}")["items"]
    failed = {f"{pvr['spec']['pod']['namespace']}/{pvr['spec']['pod']['name']} volume {pvr['spec']['volume']}":
              pvr.get("status", {}).get("message", "") for pvr in volumes if pvr.get("status", {}).get("phase") == "Failed"}
    lines = [f"restore {name} ended {phase} ({status.get('errors', 0)} errors, {status.get('warnings', 0)} warnings)."]
    refused = [volume for volume, message in failed.items() if WRONG_PASSWORD in message.lower()]
    if refused:
        lines.append(f"The file-system data of {len(refused)} volume(s) was not restored: {REFUSED}")
        lines += password_steps(
            f"remove what this restore made: kubectl --context {cluster.context} delete all --all-namespaces "
            f"-l velero.io/restore-name={name} --cascade=foreground, and wait until its pods are gone;",
            "restore again.")
    lines += [f"  {volume}: {message}" for volume, message in failed.items() if volume not in refused]
    lines.append(f"More: velero restore describe {name} --details; velero restore logs {name}")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/backup-restore", description=__doc__.split("\n\n")[0])
    parser.add_argument("backup")
    parser.add_argument("mapping", nargs="?", help="namespace mappings, like brrtrouter-dev:brrtrouter-restored")
    args = parser.parse_args(argv)
    cluster = Cluster(os.environ.get("KUBE_CONTEXT", "kind-brrtrouter-dev"), os.environ.get("VELERO_NAMESPACE", "velero"),
                      app_namespace="")
    name = restore_name(args.backup)
    mapping = ["--namespace-mappings", args.mapping] if args.mapping else []
    try:
        print(cluster.velero("restore", "create", name, "--from-backup", args.backup, *mapping, "--wait"), end="")
        problem = restore_problem(cluster, name, cluster.restore_status(name))
    except Refused as refusal:
        print(f"backup-restore: {refusal}", file=sys.stderr)
        return 1
    if problem:
        print(f"backup-restore: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
