"""How a tool is built from Go sources and kept: the mechanics behind the catalogue in tools.py.

A Tool is data: its pins (the recipe), the sources it copies from ../shared/engine-src, and a build
step. Each is built in a work folder of its own, one at a time, and kept in the cache under a key
made of its pins and sources, so a changed pin rebuilds only that tool.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .cache import ToolchainError, build_lock, cache_root, elapsed, engine_src, say

LDFLAGS = "-s -w"
# Every binary is static, as the upstream releases are: the same binaries run on the host and in
# the images built from scratch for the kind node (images.py). GOTOOLCHAIN=local: never let a
# go.mod download another toolchain.
GO_BUILD_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false", "GOTOOLCHAIN": "local"}
HEARTBEAT_SECONDS = 60
MIN_FREE_BYTES = 20 * 1024**3  # module sources, build cache and binaries of a cold build (RECIPE.md)


@dataclass(frozen=True)
class Build:
    """What a build step may use: its own work directory, the output directory, a logger."""

    tool: "Tool"
    work: Path
    out: Path
    log: Path
    started: float  # time.monotonic() when the tool's build began, for the progress lines

    def go(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        return run_go(self, list(args), cwd or self.work, env or {})

    def write(self, relative: str, text: str) -> Path:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def module_dir(self, module: str, version: str) -> Path:
        """Where the Go module cache holds module@version (downloading it if needed)."""
        info = json.loads(self.go("mod", "download", "-json", f"{module}@{version}"))
        if info.get("Error"):
            raise ToolchainError(proxy_refusal(info["Error"]) or info["Error"])
        return Path(info["Dir"])


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    binaries: tuple[str, ...]
    build: Callable[[Build], None]
    recipe: str  # every pin and generated file of the build; part of the cache key
    sources: tuple[str, ...] = ()  # folders of ../shared/engine-src the build copies
    installed: Callable[[], dict[str, Path] | None] | None = None
    estimate: str = ""  # cold build time and peak memory, from RECIPE.md

    def key(self) -> str:
        digest = hashlib.sha256(f"{self.name}\n{self.version}\n{self.recipe}\n{GO_BUILD_ENV}".encode())
        for folder in self.sources:
            digest.update(tree_digest(engine_src() / folder).encode())
        return digest.hexdigest()[:12]

    def entry(self) -> Path:
        return cache_root() / "tools" / f"{self.name}-{self.version}-{self.key()}"


def tree_digest(root: Path) -> str:
    if not root.is_dir():
        raise ToolchainError(f"{root} is missing: ../shared (with engine-src/) must sit beside the project")
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- recipes ---------------------------------------------------------------------------------


def x_flags(package_values: dict[str, str]) -> str:
    return " ".join([LDFLAGS] + [f"-X {name}={value}" for name, value in package_values.items()])


def go_install(*packages_at_version: str, stamps: dict[str, str] | None = None) -> Callable[[Build], None]:
    def step(b: Build) -> None:
        for package in packages_at_version:
            b.go("install", "-trimpath", "-ldflags", x_flags(stamps or {}), package, env={"GOBIN": str(b.out)})

    return step


def wrapper_module(name: str, requires: list[str], replaces: list[str], files: dict[str, str]) -> str:
    """The text of a wrapper module: go.mod plus its Go files, in one string (the recipe)."""
    lines = [f"module brrtrouter.local/{name}", "", "go 1.25", "", "require ("]
    lines += [f"\t{line}" for line in requires] + [")"]
    if replaces:
        lines += ["", "replace ("] + [f"\t{line}" for line in replaces] + [")"]
    text = "\n".join(lines) + "\n"
    for path, body in files.items():
        text += f"\n-- {path} --\n{body}"
    return text


def write_wrapper(b: Build, recipe: str) -> None:
    """Write a wrapper module's files (go.mod and the `-- path --` sections) and tidy it."""
    parts = re.split(r"^-- (\S+) --\n", recipe, flags=re.M)
    b.write("go.mod", parts[0])
    for path, body in zip(parts[1::2], parts[2::2]):
        b.write(path, body)
    b.go("mod", "tidy", "-e")


def tools_go(*packages: str) -> str:
    imports = "".join(f'\t_ "{package}"\n' for package in packages)
    return f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n"


# --- running go --------------------------------------------------------------------------------


def go_environment(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **GO_BUILD_ENV, **extra}


def run_go(b: Build, args: list[str], cwd: Path, extra_env: dict[str, str]) -> str:
    """Run one go command; its output goes to the tool's log, progress to the terminal."""
    go = shutil.which("go")
    if not go:
        raise ToolchainError("go not found: the real tier builds its tools with Go 1.25 or newer (https://go.dev/dl/)")
    with b.log.open("a") as log:
        log.write(f"\n$ (cd {cwd} && go {' '.join(args)})\n")
        log.flush()
        stdout_path = b.log.with_suffix(".stdout")
        with stdout_path.open("w") as stdout:
            process = subprocess.Popen([go, *args], cwd=cwd, env=go_environment(extra_env),
                                       stdout=stdout, stderr=log, stdin=subprocess.DEVNULL)
            code = wait_with_heartbeat(process, b.tool.name, b.started)
        output = stdout_path.read_text()
        stdout_path.unlink()
        log.write(output)
    if code != 0:
        text = b.log.read_text()
        reason = proxy_refusal(text) or f"`go {args[0]}` exited {code}"
        tail = "\n".join("    " + line for line in text.strip().splitlines()[-15:])
        raise ToolchainError(f"{b.tool.name}: {reason} (full log: {b.log})\n{tail}")
    return output


def wait_with_heartbeat(process: subprocess.Popen, name: str, started: float) -> int:
    while True:
        try:
            return process.wait(timeout=HEARTBEAT_SECONDS)
        except subprocess.TimeoutExpired:
            say(f"        ... {name}: still building, {elapsed(started)}")
        except BaseException:
            process.kill()
            process.wait()
            raise


def proxy_refusal(text: str) -> str | None:
    """The module@version the Go module proxy refused, from go's output."""
    found = re.search(r"(\S+@v\S+?):? (?:reading|verifying) \S+: 40[34] ", text) or \
        re.search(r"(\S+@v\S+?): .*(?:not available|403 Forbidden)", text)
    if found:
        return f"the Go module proxy refuses {found.group(1).rstrip(':')} (answer: 403, not available)"
    return None


def go_env(name: str) -> str:
    return subprocess.run(["go", "env", name], capture_output=True, text=True, check=True).stdout.strip()


# --- the cache: status and build ---------------------------------------------------------------


@dataclass
class Status:
    tool: Tool
    paths: dict[str, Path] = field(default_factory=dict)
    origin: str = "missing"  # "built" (the cache), "installed" (the machine's own), "missing"


def status_of(tool: Tool) -> Status:
    entry = tool.entry()
    built = {name: entry / name for name in tool.binaries}
    if (entry / "BUILT").is_file() and all(path.is_file() for path in built.values()):
        return Status(tool, built, "built")
    if tool.installed:
        found = tool.installed()
        if found:
            return Status(tool, found, "installed")
    return Status(tool, {}, "missing")


def check_prerequisites(missing: Sequence[Tool]) -> None:
    if not shutil.which("go"):
        raise ToolchainError("go not found: the real tier builds its tools with Go 1.25 or newer (https://go.dev/dl/)")
    if not engine_src().is_dir():
        raise ToolchainError(f"{engine_src()} is missing: ../shared (with engine-src/ and charts/) must sit beside "
                             f"the project (or set BRRTROUTER_SHARED_DIR)")
    places = {cache_root(), Path(go_env("GOCACHE")), Path(go_env("GOMODCACHE"))}
    for place in places:
        existing = next(p for p in [place, *place.parents] if p.exists())
        free = shutil.disk_usage(existing).free
        if free < MIN_FREE_BYTES:
            raise ToolchainError(
                f"too little disk for the build: {free / 1024**3:.1f} GB free at {existing}, about "
                f"{MIN_FREE_BYTES // 1024**3} GB needed ({len(missing)} tool(s) to build; `go clean -cache` frees the Go build cache)")


def build_tool(tool: Tool, index: int, total: int) -> None:
    entry = tool.entry()
    work = cache_root() / "work" / tool.name
    log = cache_root() / "logs" / f"{tool.name}.log"
    staging = entry.with_name(entry.name + ".partial")
    for path in (work, staging):
        shutil.rmtree(path, ignore_errors=True)
    work.mkdir(parents=True)
    staging.mkdir(parents=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"# {tool.name} {tool.version}, key {tool.key()}\n")
    for folder in tool.sources:
        # Copied, not built in place: engine-src is read-only and go may touch go.sum.
        shutil.copytree(engine_src() / folder, work / folder)
        for path in (work / folder).rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
    started = time.monotonic()
    say(f"[{index:2}/{total}] {tool.name} {tool.version}: building (about {tool.estimate}; log {log})")
    try:
        tool.build(Build(tool, work, staging, log, started))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # the work folder and log stay, to look at
        raise
    for name in tool.binaries:
        if not (staging / name).is_file():
            raise ToolchainError(f"{tool.name}: the build finished but produced no {name}")
    (staging / "BUILT").write_text(json.dumps({"tool": tool.name, "version": tool.version, "seconds": round(time.monotonic() - started)}))
    shutil.rmtree(entry, ignore_errors=True)
    staging.rename(entry)
    shutil.rmtree(work, ignore_errors=True)
    say(f"[{index:2}/{total}] {tool.name} {tool.version}: built in {elapsed(started)}")


def build_missing(chosen: Sequence[Tool]) -> None:
    """Build every tool of `chosen` that is neither built nor installed, one at a time."""
    started = time.monotonic()
    with build_lock():
        todo = [s.tool for s in map(status_of, chosen) if s.origin == "missing"]
        if not todo:
            say(f"all {len(chosen)} tools present in {cache_root() / 'tools'} (nothing to build)")
            return
        check_prerequisites(todo)
        say(f"building {len(todo)} of {len(chosen)} tools into {cache_root() / 'tools'}, one at a time")
        for index, tool in enumerate(todo, 1):
            build_tool(tool, index, len(todo))
    say(f"built {len(todo)} tool(s) in {elapsed(started)}")
