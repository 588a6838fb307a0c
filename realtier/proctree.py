"""Process trees from /proc: their peak memory while they run, and what is left of them after."""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

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
