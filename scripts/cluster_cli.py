"""kubectl and velero as the operations scripts call them: every command run with its arguments
as a list (no shell quoting involved), a failure raised as Refused with the tool's own message."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Optional


class Refused(Exception):
    pass


def utc_stamp() -> str:
    """Now in UTC, as the names of backups and restores carry it (yyyymmdd-hhmmss)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def run(*command: str, input: Optional[str] = None) -> str:
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, input=input)
    except FileNotFoundError:
        raise Refused(f"{command[0]} not found: install it, or put it on PATH") from None
    if result.returncode != 0:
        raise Refused(f"{' '.join(command[:4])} ... failed: {(result.stderr or result.stdout).strip()[:500]}")
    return result.stdout


class Cluster:
    def __init__(self, context: str, velero_namespace: str, app_namespace: str) -> None:
        self.context, self.velero_namespace, self.app_namespace = context, velero_namespace, app_namespace

    def kubectl(self, *args: str, input: Optional[str] = None) -> str:
        return run("kubectl", "--context", self.context, *args, input=input)

    def velero(self, *args: str) -> str:
        return run("velero", "--kubecontext", self.context, "--namespace", self.velero_namespace, *args)

    def json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json"))

    def restore_status(self, name: str) -> dict:
        return self.json("-n", self.velero_namespace, "get", "restores.velero.io", name).get("status", {})
