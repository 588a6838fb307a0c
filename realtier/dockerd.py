"""A Docker daemon for the dev stack's real tests: the machine's own if one answers, else one
started here (Debian's docker.io) and stopped again afterwards. It listens on its unix socket
only."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator


class DockerUnavailable(Exception):
    pass


def answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


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
    with log.open("ab") as out:
        process = subprocess.Popen([dockerd], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
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
