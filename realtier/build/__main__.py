"""scripts/engine: build the real tier's tools, then its images; list them; say what is missing.

    python3 -m realtier.build build     build what is missing (tools one at a time, then images)
    python3 -m realtier.build --check   list what is present and what is missing
    python3 -m realtier.build path      NAME<TAB>PATH of each binary, IMAGE-REFERENCE<TAB>TARBALL of each image
"""

from __future__ import annotations

import argparse
import sys

from ..run.dockerd import DockerUnavailable, daemon
from . import gobuild, imaging
from .cache import ToolchainError, cache_root, say
from .images import IMAGES, listing
from .tools import TOOLS, locate


def build(only: list[str]) -> int:
    unknown = set(only) - {t.name for t in TOOLS}
    if unknown:
        raise ToolchainError(f"unknown tool(s) {', '.join(sorted(unknown))}; known: {', '.join(t.name for t in TOOLS)}")
    gobuild.build_missing([t for t in TOOLS if not only or t.name in only])
    if only:
        return 0
    if all(image.built() for image in IMAGES):
        say(f"all {len(IMAGES)} images present in {cache_root() / 'images'} (nothing to build)")
        return 0
    try:
        with daemon(cache_root() / "logs") as docker:
            imaging.build_missing(IMAGES, docker.state)
    except DockerUnavailable as error:
        raise ToolchainError(str(error)) from error
    return 0


def check() -> int:
    states = [gobuild.status_of(tool) for tool in TOOLS]
    width = max(len(s.tool.name) for s in states)
    for state in states:
        where = ", ".join(str(p) for p in state.paths.values()) if state.paths else f"not built (about {state.tool.estimate})"
        say(f"{state.origin:9} {state.tool.name:<{width}} {state.tool.version:<36} {where}")
    for image in IMAGES:
        state = "built" if image.built() else "missing"
        say(f"{state:9} {'image':<{width}} {image.reference:<36} {image.tarball() if image.built() else 'not built'}")
    missing = [s.tool.name for s in states if s.origin == "missing"] + [i.reference for i in IMAGES if not i.built()]
    present = len(states) + len(IMAGES) - len(missing)
    say(f"{present} present, {len(missing)} missing" + ("; run scripts/engine build" if missing else ""))
    return 1 if missing else 0


def path() -> int:
    for name, binary in locate().items():
        say(f"{name}\t{binary}")
    for reference, tarball in listing():
        say(f"{reference}\t{tarball}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list what is present and what is missing")
    parser.add_argument("command", nargs="?", choices=["build", "check", "path"], default="build")
    parser.add_argument("tools", nargs="*", help="build only these (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.check or args.command == "check":
            return check()
        if args.command == "path":
            return path()
        return build(args.tools)
    except ToolchainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; a tool half built is thrown away on the next run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
