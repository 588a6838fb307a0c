"""Process trees from /proc: their peak memory while they run, and what is left of them after."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar

PAGE = os.sysconf("SC_PAGE_SIZE")


def _stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/pid/stat after the command name) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for pid, fields in _stats():
        children.setdefault(int(fields[1]), []).append(pid)  # fields: state, ppid, pgrp, session
    return children


def kill_session(session: int) -> list[int]:
    """SIGKILL every process of a session (one started with start_new_session): what a command
    leaves behind when it exits without stopping its children. Returns their pids."""
    left = [pid for pid, fields in _stats() if int(fields[3]) == session]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def tree(roots: Iterable[int]) -> list[int]:
    children = _children_map()
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def high_water_bytes(pid: int) -> int:
    """VmHWM: the process's own peak resident size so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class PeakSampler:
    """Samples the peak of one process (VmHWM) and of the sum over its tree, every `interval` s."""

    roots: list[int]
    interval: float = 0.05
    process_peak: int = 0
    tree_peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "PeakSampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        self.process_peak = max([self.process_peak, *(high_water_bytes(pid) for pid in self.roots[:1])])
        self.tree_peak = max(self.tree_peak, sum(rss_bytes(pid) for pid in tree(self.roots)))


# --- servers the real tier starts ------------------------------------------------------------


def die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the process that started it dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join("    " + line for line in self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "    (no log)"

    def kill(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait()


def spawn(name: str, command: list[str], log: Path, *, cwd: Path, env: dict[str, str] | None = None,
          attached: bool = True) -> Process:
    """Start a server in its own session, its output in `log`; attached: it dies with this process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                 env={**os.environ, **(env or {})}, start_new_session=True,
                                 preexec_fn=die_with_parent if attached else None)
    return Process(name, popen, log)


class StartedService:
    """Something a test starts and must stop (processes, a server): `with X.start(...) as x:` stops
    it on the way out, and a start that fails half-way stops what it had begun."""

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _started(self: ServiceT) -> ServiceT:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self: ServiceT) -> ServiceT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


ServiceT = TypeVar("ServiceT", bound=StartedService)


def wait_until(what: str, process: Optional[Process], probe: Callable[[], Any], timeout: float = 60,
               errors: tuple[type[BaseException], ...] = (OSError, ValueError), interval: float = 0.2) -> Any:
    """Poll probe() until it is truthy (errors of the given types count as not yet); fail at once,
    with its log, if the process it waits on exits."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode} while waiting for {what}:\n"
                               + process.tail())
        try:
            result = probe()
            if result:
                return result
        except errors as error:
            last_error = error
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    log = f"; last lines of {process.log}:\n{process.tail()}" if process is not None else ""
    raise TimeoutError(f"{what}: not within {timeout:.0f} s{detail}{log}")


# Every process a test session starts inherits this variable (they all get os.environ): its value
# names the session, and the pid of the pytest process that owns it first, so a session can tell
# its own leftovers from another session's processes, and both from the orphans of a killed one.
SESSION_VARIABLE = "BRRTROUTER_TEST_SESSION"


def session_of(pid: int) -> Optional[str]:
    """The test session a process belongs to (SESSION_VARIABLE in its environment), if any."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = SESSION_VARIABLE.encode() + b"="
    return next((entry[len(prefix):].decode(errors="replace") for entry in environment if entry.startswith(prefix)), None)


def session_owner_alive(session: str) -> bool:
    """Whether the pytest process that made `session` (OWNER-PID-RANDOM) still runs."""
    owner = session.split("-", 1)[0]
    return owner.isdigit() and Path(f"/proc/{owner}").exists()


def running_binaries_of(folder: Path) -> list[int]:
    """Processes whose executable lives under folder (through symlinks too, as plugins do)."""
    prefix = str(folder.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "exe").startswith(prefix):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class FolderPeakSampler(PeakSampler):
    """The peak of the summed resident memory of every process running a binary from `folder`
    (and of their children): a whole tier's footprint."""

    folder: Path = Path("/nonexistent")

    def sample(self) -> None:
        self.tree_peak = max(self.tree_peak, sum(rss_bytes(pid) for pid in tree(running_binaries_of(self.folder))))
