"""One ./scripts/up of a stack at a time: takes the lock on the file scripts/up opened as fd 9.

    python scripts/up_lock.py LOCK STACK        (exit 0: this up holds the lock; 1: refused)

The lock is an flock on the open file, which scripts/up, its pulumi and pulumi's plugins inherit,
so it goes when the last of them exits. When a ./scripts/up is killed (SIGKILL, a closed terminal)
its pulumi dies with it, but what pulumi started in process groups of their own (the language
host and the program it runs, the providers and what they run) may live on, orphaned, still
holding the lock: every later up would be refused for good. So where the script that took the
lock (its pid in LOCK.pid) is gone and only such processes hold the lock, they are stopped, said
so, and the lock is taken. A pulumi CLI still running is never stopped: it may be in the middle of
an update.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

LOCK_FD = 9
CLI = "pulumi"


def try_lock(fd: int = LOCK_FD) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def holders(lock: Path) -> dict[int, str]:
    """pid -> program name of every process with the lock file open (other than this one and the
    script that runs it)."""
    target = str(lock.resolve())
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in (os.getpid(), os.getppid()):
            continue
        try:
            if any(os.readlink(fd) == target for fd in (proc / "fd").iterdir()):
                found[int(proc.name)] = Path((proc / "cmdline").read_bytes().split(b"\0")[0].decode()).name
        except OSError:
            continue  # gone, or not ours to read
    return found


def alive(pid: int) -> bool:
    """Whether the process runs: a zombie (killed, not yet reaped by its new parent) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def stop(pids: list[int], grace: float = 10) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def take(lock: Path, stack: str) -> str | None:
    """None once this up holds the lock; else why it is refused."""
    if try_lock():
        return None
    pid_text = Path(f"{lock}.pid").read_text().strip() if Path(f"{lock}.pid").exists() else ""
    script = int(pid_text) if pid_text.isdigit() else None
    refused = f"another ./scripts/up of the {stack} stack is running{f' (pid {script})' if script else ''}"
    if script is None or alive(script):
        return f"{refused}: wait for it to end, then run this again (nothing was changed)"
    held = holders(lock)
    clis = [pid for pid, name in held.items() if name == CLI]
    if clis:
        return (f"a ./scripts/up of the {stack} stack that was killed (pid {script}) left its pulumi running (pid "
                f"{', '.join(map(str, clis))}): wait for it to end or stop it, then run this again (nothing was changed)")
    left = sorted(held)
    print(f"note: a ./scripts/up of the {stack} stack that was killed (pid {script}) left Pulumi's plugins or program "
          f"running (pids {', '.join(map(str, left))}: {', '.join(sorted(set(held.values())))}): stopping them",
          file=sys.stderr)
    stop(left)
    for _ in range(50):  # their exit lets go of the lock
        if try_lock():
            return None
        time.sleep(0.1)
    return f"{refused}: its lock ({lock}) is still held; run this again (nothing was changed)"


def main(argv: list[str]) -> int:
    lock, stack = Path(argv[1]), argv[2]
    refusal = take(lock, stack)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    Path(f"{lock}.pid").write_text(f"{os.getppid()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
