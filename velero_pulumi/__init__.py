"""Velero on Kubernetes as Pulumi components: the install (the official chart), a storage location
for any backend, schedules, alerts and a dashboard, and the parts of a local dev environment (a KIND
cluster, MinIO beside it, Docker data volumes).

    from velero_pulumi import VeleroInstall, VeleroInstallArgs, BackupStorageLocation, ...

The typed settings and the stack-config reader the project's own program uses are in
`velero_pulumi.config`.
"""

from .components import *  # noqa: F401,F403 (the components' names are the package's)
from .components import __all__  # noqa: F401
