"""The Pulumi component package `velero`: the Backups component and its parts (Install,
StorageLocation, BackupSchedule, Alerts), for TypeScript, YAML and Python programs through
`pulumi package add` (the plugin folder is provider/ of this repository), and for Python programs
also as a plain import:

    from velero_pulumi.package import Backups
"""

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .backups import TYPE, Backups
from .inputs import (AlertsArgs, Backend, BackendKind, BackupsArgs, BackupScheduleArgs, Catalogue, Hook, InstallArgs,
                     Schedule, Service, StorageLocationArgs)
from .parts import Alerts, BackupSchedule, Install, StorageLocation

PACKAGE_NAME = "velero"
# The SDKs' scope (@brrtrouter/velero for TypeScript), the same wherever the package is added from:
# without one, the CLI takes the git host's first path segment for a package added from git.
PACKAGE_NAMESPACE = "brrtrouter"
COMPONENTS = [Backups, Install, StorageLocation, BackupSchedule, Alerts]

__all__ = ["TYPE", "Alerts", "AlertsArgs", "Backend", "BackendKind", "Backups", "BackupsArgs", "BackupSchedule",
           "BackupScheduleArgs", "Catalogue", "Hook", "Install", "InstallArgs", "Schedule", "Service",
           "StorageLocation", "StorageLocationArgs", "PACKAGE_NAME", "PACKAGE_NAMESPACE", "COMPONENTS", "package_version", "serve"]


def package_version() -> str:
    """The installed distribution's version (pyproject.toml), which the schema carries."""
    try:
        return version("velero-pulumi")
    except PackageNotFoundError:  # a checkout that is not installed: the project's own program and tests
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def serve() -> None:
    """Run the component provider: what the plugin's __main__.py does when the engine starts it."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(COMPONENTS, PACKAGE_NAME, namespace=PACKAGE_NAMESPACE, version=package_version())
