"""A Docker daemon for the dev stack's real tests: the machine's own if one answers, else one
started here (Debian's docker.io) and stopped again afterwards. It listens on its unix socket
only.

Where this machine's capability bounding set lacks capabilities Docker's --privileged asks for
(CAP_SYS_RESOURCE on our machines), runc cannot start a privileged container, which a kind node
is. The daemon started here then runs containers through runc-bounded (realtier/go/runc-bounded),
which drops those capabilities first. That belongs to this daemon only: a user's Docker is never
changed."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

from . import toolchain


class DockerUnavailable(Exception):
    pass


def answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


# Every capability up to CAP_AUDIT_READ (37): what Docker 20.10's --privileged grants.
PRIVILEGED_CAPABILITIES = (1 << 38) - 1


def bounding_set() -> int:
    found = re.search(r"^CapBnd:\s*([0-9a-f]+)$", Path("/proc/self/status").read_text(), flags=re.M)
    return int(found.group(1), 16) if found else PRIVILEGED_CAPABILITIES


def runtime_arguments(log: Path) -> list[str]:
    """dockerd's runtime flags: runc-bounded as the default where the bounding set lacks any
    capability --privileged asks for, none elsewhere. Says which in the daemon's log."""
    lacking = PRIVILEGED_CAPABILITIES & ~bounding_set()
    if not lacking:
        return []
    runtime = toolchain.locate(("runc-bounded",))["runc-bounded"]
    numbers = [str(bit) for bit in range(38) if lacking >> bit & 1]
    with log.open("a") as out:
        out.write(f"brrtrouter: the bounding set lacks capabilities {', '.join(numbers)}; containers run through "
                  f"{runtime}, which drops them (--privileged needs it here)\n")
    return ["--add-runtime", f"runc-bounded={runtime}", "--default-runtime", "runc-bounded"]


@contextlib.contextmanager
def daemon(log_dir: Path) -> Iterator[str]:
    """Yields "running" (the machine's daemon) or "started" (ours, stopped on exit)."""
    if answers():
        yield "running"
        return
    dockerd = shutil.which("dockerd")
    if not dockerd or not shutil.which("docker"):
        raise DockerUnavailable(
            "no Docker daemon answers and dockerd/docker are not installed: the dev stack's real tests need one "
            "(Debian: apt-get install docker.io; ./scripts/test installs it when run as root)")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "dockerd.log"
    try:
        runtime = runtime_arguments(log)
    except toolchain.ToolchainError as error:
        raise DockerUnavailable(f"privileged containers need runc-bounded on this machine: {error}") from error
    with log.open("ab") as out:
        process = subprocess.Popen([dockerd, *runtime], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not answers():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                raise DockerUnavailable(f"dockerd did not come up (exit {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield "started"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
