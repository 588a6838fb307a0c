"""Velero on Kubernetes as Pulumi components: the install (the official chart), a storage location
for any backend, schedules, alerts and a dashboard, and the parts of a local dev environment (a KIND
cluster, MinIO beside it, Docker data volumes).

    from velero_pulumi import VeleroInstall, VeleroInstallArgs, BackupStorageLocation, ...

The typed settings and the stack-config reader the project's own program uses are in
`velero_pulumi.config`.
"""

import importlib


def __getattr__(name: str):
    """The components' names, imported on first use: `import velero_pulumi.config` alone (the
    policy pack's, in a virtualenv without the providers' SDKs) does not load the components."""
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # probes for dunders load nothing
    components = importlib.import_module(f"{__name__}.components")
    if name == "__all__":
        return components.__all__
    if name not in components.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(components, name)
