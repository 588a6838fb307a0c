"""Why the storage location is not Available, in Velero's own words, read from the cluster.

    python scripts/location_status.py CONTEXT [NAMESPACE] [NAME]

./scripts/up runs it when `pulumi up` fails: an up that waited for the location in vain
(locationAvailableTimeout) then ends with the location's phase and Velero's message, and what to
do. Exit 0: Available; 1: not Available (the reason printed); 2: no location to read (no cluster,
or an up that failed before it; nothing printed). Uses the project's own client
(velero_pulumi/config/cluster.py), so kubectl is not needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from velero_pulumi.config.cluster import ClusterUnreachable, cluster_access, get_json  # noqa: E402


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    context = argv[0]
    namespace = argv[1] if len(argv) > 1 else "velero"
    name = argv[2] if len(argv) > 2 else "default"
    try:
        location = get_json(cluster_access(None, context),
                            f"/apis/velero.io/v1/namespaces/{namespace}/backupstoragelocations/{name}")
    except ClusterUnreachable:
        return 2
    if location is None:
        return 2
    status = location.get("status") or {}
    phase = status.get("phase") or "not validated yet (is Velero running? kubectl -n velero get pods)"
    if phase == "Available":
        print(f"the storage location {name} is Available")
        return 0
    message = status.get("message") or "Velero gave no reason"
    print(f"the storage location {name} is {phase}: {message}\n"
          f"  Velero could not use the bucket with the stack's endpoint and credentials; fix what it says "
          f"(just doctor checks MinIO, the cluster and Velero), then run ./scripts/up again.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
