"""What a pulumi killed in the middle of a command (SIGKILL, a closed terminal, a reboot) leaves in
a file backend, mended before the next command runs (scripts/up and scripts/pulumi call this):

- its lock on the stack (.pulumi/locks/...): every later command would stop at "the stack is
  currently locked". One made on this host by a process that no longer runs is removed;
- the checkpoint's attributes file, left empty when it was killed while saving (it writes them
  before it renames the new checkpoint into place): every later command would fail with "failed
  to load checkpoint: EOF". Without it the last whole checkpoint reads as it was.

    python scripts/mend_state.py STATE_DIR

What the killed command left half-done in the cluster, the next `pulumi up` takes up (Pulumi
reports its pending operations; docs/operations.md, "An interrupted up").
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from up_lock import alive


def stale_locks(state: Path) -> list[Path]:
    """Locks taken on this host by processes that are gone."""
    found = []
    for lock in sorted((state / ".pulumi" / "locks").rglob("*.json")):
        try:
            holder = json.loads(lock.read_text())
        except (OSError, ValueError):
            continue
        if holder.get("hostname") == socket.gethostname() and isinstance(holder.get("pid"), int) \
                and not alive(holder["pid"]):
            found.append(lock)
    return found


def empty_attributes(state: Path) -> list[Path]:
    return sorted(path for path in (state / ".pulumi" / "stacks").rglob("*.attrs") if path.stat().st_size == 0)


def main(argv: list[str]) -> int:
    state = Path(argv[1])
    for lock in stale_locks(state):
        print(f"note: removing {lock}, the stack's lock of a pulumi that was killed (it no longer runs)", file=sys.stderr)
        lock.unlink()
    for attributes in empty_attributes(state):
        print(f"note: removing {attributes}, left empty by a pulumi that was killed while it saved the state",
              file=sys.stderr)
        attributes.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
