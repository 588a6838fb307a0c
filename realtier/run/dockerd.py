"""A Docker daemon for the dev stack's real tests: the machine's own if one answers, else one
started here (Debian's docker.io) and stopped again afterwards. It listens on its unix socket
only, and keeps its containers, volumes and images in the tools' cache (data_root()), never in
/var/lib/docker: what it holds is the tests' alone, so a killed run's leftovers there may go, and
a user's own dev stack in the machine's daemon is never seen.

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

from ..build.cache import ToolchainError, cache_root
from ..build.tools import locate


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
    runtime = locate(("runc-bounded",))["runc-bounded"]
    numbers = [str(bit) for bit in range(38) if lacking >> bit & 1]
    with log.open("a") as out:
        out.write(f"brrtrouter: the bounding set lacks capabilities {', '.join(numbers)}; containers run through "
                  f"{runtime}, which drops them (--privileged needs it here)\n")
    return ["--add-runtime", f"runc-bounded={runtime}", "--default-runtime", "runc-bounded"]


def data_root() -> Path:
    return cache_root() / "docker"


class Daemon:
    """The Docker daemon the tests use: the machine's own ("running"), or one started here
    ("started") on the tests' own data root, which the tests may stop and start again as a reboot
    does."""

    def __init__(self, state: str, command: list[str] | None = None, log: Path | None = None) -> None:
        self.state = state
        self._command, self._log = command or [], log
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self._log is not None
        with self._log.open("ab") as out:
            self._process = subprocess.Popen(self._command, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self._log.read_text(errors="replace").splitlines()[-15:])
                raise DockerUnavailable(f"dockerd did not come up (exit {self._process.poll()}):\n{tail}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop it as a host's shutdown does: SIGTERM, and dockerd stops its containers."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> float:
        """Stop the daemon and start it again, leaving the containers as it leaves them; the
        time.monotonic() at which the new daemon answered."""
        if self.state != "started":
            raise DockerUnavailable("the machine's own Docker daemon answers here: only a daemon the tests started "
                                    "may be restarted (stop the machine's, and the tests start their own)")
        self.stop()
        self.start()
        return time.monotonic()


@contextlib.contextmanager
def daemon(log_dir: Path) -> Iterator[Daemon]:
    """The machine's daemon if one answers, else one started here (stopped on exit)."""
    if answers():
        yield Daemon("running")
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
    except ToolchainError as error:
        raise DockerUnavailable(f"privileged containers need runc-bounded on this machine: {error}") from error
    started = Daemon("started", [dockerd, *runtime, "--data-root", str(data_root())], log)
    try:
        started.start()
        yield started
    finally:
        started.stop()
