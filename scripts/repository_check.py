"""Does the kopia repository open with the stack's password? `just doctor` asks it after every up.

    python scripts/repository_check.py   (KUBE_CONTEXT, VELERO_NAMESPACE, APP_NAMESPACE, PROBE_IMAGE, PROBE_TIMEOUT_SECONDS)

Velero itself never finds out before a restore: it checks that the repository exists, not that it
opens (its BackupRepository stays Ready with any password). So this makes the smallest real
file-system backup there is: a probe pod with a few bytes in an emptyDir, in the application's
namespace (whose repository holds its backups), backed up by the node agent with kopia, which must
open the repository with the stack's password to write to it. Its PodVolumeBackup says whether it
did; the probe pod and the probe backup (and with it its snapshot) are removed after. A wrong
password gets the same message and steps as `just backup-restore`. Exit 0: it opens; 1: it does not
(or the probe failed otherwise: Velero's reason).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Optional

from backup_restore import REFUSED, WRONG_PASSWORD, password_steps
from cluster_cli import Cluster, Refused, utc_stamp

PROBE = "velero-password-probe"
# busybox, which every kind node carries (kind's local-path helper image).
PROBE_IMAGE = "docker.io/kindest/local-path-helper:v20241212-8ac705d0"
# Velero runs one backup at a time: behind a stuck one the probe would wait for hours.
PROBE_TIMEOUT_SECONDS = int(os.environ.get("PROBE_TIMEOUT_SECONDS", "180"))
FINISHED = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")


def probe_pod(image: str) -> str:
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {PROBE}
  labels: {{app: {PROBE}}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  containers:
  - name: probe
    image: {image}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "date > /probe/written && sleep 600"]
    volumeMounts: [{{name: probe, mountPath: /probe}}]
  volumes:
  - name: probe
    emptyDir: {{}}
"""


def wait_for_backup(cluster: Cluster, name: str) -> str:
    """The backup's phase once it has finished, or as it stands after PROBE_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + PROBE_TIMEOUT_SECONDS
    while True:
        phase = cluster.json("-n", cluster.velero_namespace, "get", "backups.velero.io", name).get(
            "status", {}).get("phase", "New")
        if phase in FINISHED or time.monotonic() > deadline:
            return phase
        time.sleep(2)


def check(cluster: Cluster, image: str) -> Optional[str]:
    """None when the repository opened with the stack's password; else what is wrong and what to do."""
    name = f"password-probe-{utc_stamp()}"
    app = ["-n", cluster.app_namespace]
    cluster.kubectl(*app, "apply", "-f", "-", input=probe_pod(image))
    try:
        cluster.kubectl(*app, "wait", "--for=condition=Ready", f"pod/{PROBE}", "--timeout=120s")
        cluster.velero("backup", "create", name, "--include-namespaces", cluster.app_namespace, "--selector",
                       f"app={PROBE}", "--default-volumes-to-fs-backup", "--snapshot-volumes=false", "--ttl", "1h")
        phase = wait_for_backup(cluster, name)
        if phase not in FINISHED:
            return (f"the probe backup {name} did not finish within {PROBE_TIMEOUT_SECONDS} s (phase {phase}): Velero "
                    "runs one backup at a time, and one ahead of it has not ended (velero backup get; just doctor "
                    "names a volume backup whose data mover pod is gone)")
        volumes = cluster.json("-n", cluster.velero_namespace, "get", "podvolumebackups.velero.io",
                               "-l", f"velero.io/backup-name={name}")["items"]
    finally:
        cluster.kubectl(*app, "delete", "pod", PROBE, "--ignore-not-found", "--wait=false")
        try:
            cluster.velero("backup", "delete", name, "--confirm")
        except Refused:
            pass  # its TTL removes it within the hour
    statuses = [pvb.get("status", {}) for pvb in volumes]
    if statuses and all(status.get("phase") == "Completed" for status in statuses):
        return None
    messages = [status.get("message", "") for status in statuses]
    if any(WRONG_PASSWORD in message.lower() for message in messages):
        return "\n".join([f"the repository password does not open the backups: {REFUSED}",
                          *password_steps("run just doctor again.")])
    reasons = "; ".join(f"{status.get('phase', 'no status')}: {status.get('message', '')}" for status in statuses)
    return f"the probe backup {name} could not write to the repository ({reasons or 'no PodVolumeBackup was made'})"


def main() -> int:
    cluster = Cluster(os.environ.get("KUBE_CONTEXT", "kind-brrtrouter-dev"), os.environ.get("VELERO_NAMESPACE", "velero"),
                      os.environ.get("APP_NAMESPACE", "brrtrouter-dev"))
    try:
        problem = check(cluster, os.environ.get("PROBE_IMAGE", PROBE_IMAGE))
    except Refused as refusal:
        problem = f"the probe backup could not run: {refusal}"
    if problem:
        print(f"FAIL: {problem}")
        return 1
    print("ok:   the kopia repository opens with this stack's password (a probe backup wrote to it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
