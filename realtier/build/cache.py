"""Where the built tools and images live, and how the build talks to the user.

The cache sits outside the repository (~/.cache/brrtrouter-backup, BRRTROUTER_TOOLS_CACHE moves
it), so every clone and CI run on the machine shares it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator

PROJECT_DIR = Path(__file__).resolve().parents[2]


class ToolchainError(Exception):
    """A build or lookup problem, said in one sentence a user can act on."""


def cache_root() -> Path:
    override = os.environ.get("BRRTROUTER_TOOLS_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "brrtrouter-backup"


def shared_dir() -> Path:
    return Path(os.environ.get("BRRTROUTER_SHARED_DIR") or PROJECT_DIR.parent / "shared")


def engine_src() -> Path:
    return shared_dir() / "engine-src"


def say(text: str) -> None:
    print(text, flush=True)


def elapsed(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time per cache: a second one waits for the first."""
    cache_root().mkdir(parents=True, exist_ok=True)
    with (cache_root() / ".build.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another build of the tools in {cache_root()} ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield
