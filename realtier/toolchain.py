"""Build the real tier's tools from pinned sources, once per machine, and find them again.

    python3 -m realtier.toolchain build     build what is missing (one binary at a time)
    python3 -m realtier.toolchain --check   list what is present and what is missing

Every binary comes from the Go module proxy or from ../shared/engine-src (RECIPE.md there).
Each tool is cached outside the repository under a key made of its pins and its sources, so every
clone, and CI, reuses it; a second build finds everything and changes nothing.
Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The pins. The provider versions are the ones the project's Python SDKs ask the engine for
# (requirements.txt); Velero and the AWS plugin are the releases Pulumi.yaml installs.
PULUMI_VERSION = "3.274.1"
KUBERNETES_PROVIDER_VERSION = "4.32.0"  # a real release, from engine-src/pulumi-kubernetes (no stamp)
COMMAND_PROVIDER_STAMP = "1.2.1"
RANDOM_PROVIDER_STAMP = "4.21.4"
DOCKER_PROVIDER_STAMP = "5.2.0"
ETCD_VERSION = "3.6.5"  # what kubeadm v1.34 runs (its image registry.k8s.io/etcd:3.6.5-0)
KUBERNETES_VERSION = "1.34.4"
KWOK_VERSION = "0.7.0"
VELERO_VERSION = "1.18.1"
VELERO_KUBE_CLIENT_VERSION = "v0.33.13"  # cli-runtime/kube-aggregator: v0.33.11, Velero's own, is refused
VELERO_KOPIA_FORK = "github.com/project-velero/kopia v0.0.0-20251230033609-d946b1e75197"
AWS_PLUGIN_VERSION = "1.14.3"  # v1.14.4 is refused by the module proxy
AWS_PLUGIN_MODULE = "github.com/vmware-tanzu/velero-plugin-for-aws"
MINIO_MODULE = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
MC_MODULE = "github.com/minio/mc@v0.0.0-20250313080218-cf909e1063a9"
KIND_VERSION = "0.30.0"
COREDNS_VERSION = "1.12.1"  # what kubeadm v1.34 runs
# kind's own build of the provisioner is from v0.0.31, which the module proxy refuses.
LOCAL_PATH_PROVISIONER_VERSION = "0.0.30"
PAUSE_VERSION = "3.10"  # the sandbox image of kind's containerd config
HELM_VERSION = "3.22.0"  # only the benchmark's anchor runs it (a user's kind create + helm install)

# The oldest installed Pulumi CLI the tests accept instead of building one: the SDK's own version.
MIN_INSTALLED_PULUMI = (3, 272, 0)
LDFLAGS = "-s -w"
# Every binary is static, as the upstream releases are: the same binaries run on the host and in
# the images built from scratch for the kind node (realtier/images.py).
GO_BUILD_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false", "GOTOOLCHAIN": "local"}


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


class ToolchainError(Exception):
    """A build or lookup problem, said in one sentence a user can act on."""


# --- how a tool is built ---------------------------------------------------------------------


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


def x_flags(package_values: dict[str, str]) -> str:
    return " ".join([LDFLAGS] + [f"-X {name}={value}" for name, value in package_values.items()])


def go_install(*packages_at_version: str, stamps: dict[str, str] | None = None):
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


# --- the tools -------------------------------------------------------------------------------

PULUMI_SDK_VERSION_PKG = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
PULUMI_RECIPE = wrapper_module(
    "pulumi",
    [f"github.com/pulumi/pulumi/pkg/v3 v{PULUMI_VERSION}", f"github.com/pulumi/pulumi/sdk/v3 v{PULUMI_VERSION}"],
    ["github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"],
    {"tools.go": tools_go("github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")},
)


def build_pulumi(b: Build) -> None:
    shutil.copytree(engine_src() / "pulumi-language-python", b.work / "cmd" / "pulumi-language-python")
    write_wrapper(b, PULUMI_RECIPE)
    flags = x_flags({PULUMI_SDK_VERSION_PKG: f"v{PULUMI_VERSION}"})
    b.go("build", "-trimpath", "-ldflags", flags, "-o", str(b.out / "pulumi"), "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")
    b.go("build", "-trimpath", "-ldflags", flags, "-o", str(b.out / "pulumi-language-python"), "./cmd/pulumi-language-python")
    # The language host runs the program through this script, which ships in the SDK's sources.
    sdk = b.module_dir("github.com/pulumi/pulumi/sdk/v3", f"v{PULUMI_VERSION}")
    exec_script = b.out / "pulumi-language-python-exec"
    shutil.copyfile(sdk / "python" / "cmd" / "pulumi-language-python-exec", exec_script)
    exec_script.chmod(0o755)


ETCD_MODULES = ["go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/client/pkg/v3", "go.etcd.io/etcd/client/v3",
                "go.etcd.io/etcd/pkg/v3", "go.etcd.io/etcd/server/v3"]
ETCD_RECIPE = wrapper_module(
    "etcd",
    [f"{module} v{ETCD_VERSION}" for module in ETCD_MODULES],
    [],
    {"main.go": 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\n'
                "func main() { etcdmain.Main(os.Args) }\n"},
)


def build_etcd(b: Build) -> None:
    write_wrapper(b, ETCD_RECIPE)
    b.go("build", "-trimpath", "-ldflags", LDFLAGS, "-o", str(b.out / "etcd"), ".")


# The control plane the host-side tests run, and the node's own binaries for the kind node image.
KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet",
                       "kubeadm", "kube-proxy")


def kubernetes_recipe(staging: list[str], commands: tuple[str, ...] = KUBERNETES_COMMANDS) -> str:
    return wrapper_module(
        "kubernetes",
        [f"k8s.io/kubernetes v{KUBERNETES_VERSION}"],
        [f"{module} => {module} v0.{KUBERNETES_VERSION.split('.', 1)[1]}" for module in staging],
        {"tools.go": tools_go(*(f"k8s.io/kubernetes/cmd/{command}" for command in commands))},
    )


def build_kubernetes(b: Build, commands: tuple[str, ...] = KUBERNETES_COMMANDS) -> None:
    # k8s.io/kubernetes points its staging modules at ./staging; outside its repository each
    # must be replaced by its published release (v0.34.x for v1.34.x).
    gomod = (b.module_dir("k8s.io/kubernetes", f"v{KUBERNETES_VERSION}") / "go.mod").read_text()
    staging = sorted(set(re.findall(r"^\s*(k8s\.io/\S+)\s+=>\s+\./staging/", gomod, flags=re.M)))
    if not staging:
        raise ToolchainError(f"k8s.io/kubernetes v{KUBERNETES_VERSION}: its go.mod names no staging modules")
    write_wrapper(b, kubernetes_recipe(staging, commands))
    stamps: dict[str, str] = {}
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        stamps |= {f"{package}.gitVersion": f"v{KUBERNETES_VERSION}", f"{package}.gitMajor": "1",
                   f"{package}.gitMinor": KUBERNETES_VERSION.split(".")[1], f"{package}.gitTreeState": "clean"}
    for command in commands:
        b.go("build", "-trimpath", "-ldflags", x_flags(stamps), "-o", str(b.out / command), f"k8s.io/kubernetes/cmd/{command}")


# The server and CLI, and the two helpers its image carries: the restore helper (the init container
# of a file-system restore) and velero-helper.
VELERO_COMMANDS = ("velero", "velero-restore-helper", "velero-helper")
VELERO_RECIPE = wrapper_module(
    "velero",
    [f"github.com/vmware-tanzu/velero v{VELERO_VERSION}",
     f"k8s.io/cli-runtime {VELERO_KUBE_CLIENT_VERSION}", f"k8s.io/kube-aggregator {VELERO_KUBE_CLIENT_VERSION}"],
    [f"github.com/kopia/kopia => {VELERO_KOPIA_FORK}"],
    {"tools.go": tools_go(*(f"github.com/vmware-tanzu/velero/cmd/{command}" for command in VELERO_COMMANDS))},
)


def build_velero(b: Build) -> None:
    write_wrapper(b, VELERO_RECIPE)
    flags = x_flags({"github.com/vmware-tanzu/velero/pkg/buildinfo.Version": f"v{VELERO_VERSION}"})
    for command in VELERO_COMMANDS:
        b.go("build", "-trimpath", "-ldflags", flags, "-o", str(b.out / command), f"github.com/vmware-tanzu/velero/cmd/{command}")


GO_SOURCES = PROJECT_DIR / "realtier" / "go"


def project_tool(name: str, version: str, estimate: str) -> Tool:
    """A small Go program of this project's own, in realtier/go/NAME (standard library only)."""
    folder = GO_SOURCES / name
    text = "".join(f"-- {path.name} --\n{path.read_text()}" for path in sorted(folder.iterdir()) if path.is_file())

    def build_it(b: Build) -> None:
        shutil.copytree(folder, b.work / name)
        b.go("build", "-trimpath", "-ldflags", LDFLAGS, "-o", str(b.out / name), ".", cwd=b.work / name)

    return Tool(name, version, (name,), build_it, text, estimate=estimate)


def build_kindnetd(b: Build) -> None:
    b.go("build", "-trimpath", "-ldflags", LDFLAGS, "-o", str(b.out / "kindnetd"), "./cmd/kindnetd",
         cwd=b.work / "kindnetd")


def installed_pulumi() -> dict[str, Path] | None:
    """A Pulumi CLI on PATH (with its Python language host) new enough for the SDK."""
    cli = shutil.which("pulumi")
    if not cli or Path(cli).resolve().is_relative_to(cache_root().resolve()):
        return None
    try:
        text = subprocess.run([cli, "version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if not found or tuple(map(int, found.groups())) < MIN_INSTALLED_PULUMI:
        return None
    folder = Path(cli).resolve().parent
    tools = {"pulumi": Path(cli)}
    for name in ("pulumi-language-python", "pulumi-language-python-exec"):
        path = folder / name if (folder / name).exists() else shutil.which(name)
        if not path:
            return None
        tools[name] = Path(path)
    return tools


def installed_provider(name: str, version: str) -> Callable[[], dict[str, Path] | None]:
    """A provider plugin the Pulumi CLI already installed at exactly the version the SDK asks for."""

    def probe() -> dict[str, Path] | None:
        home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
        binary = home / "plugins" / f"resource-{name}-v{version}" / f"pulumi-resource-{name}"
        return {binary.name: binary} if binary.is_file() and os.access(binary, os.X_OK) else None

    return probe


def provider_tool(name: str, stamp: str, module: str, estimate: str) -> Tool:
    """A provider whose sources are in engine-src/pulumi-NAME (provider/ plus what it replaces)."""
    package = f"provider/cmd/pulumi-resource-{name}"
    stamps = {f"{module}/pkg/version.Version": stamp}
    return Tool(
        name=f"pulumi-resource-{name}", version=stamp, binaries=(f"pulumi-resource-{name}",),
        build=lambda b: b.go("build", "-trimpath", "-ldflags", x_flags(stamps), "-o",
                             str(b.out / f"pulumi-resource-{name}"), f"./cmd/pulumi-resource-{name}",
                             cwd=b.work / f"pulumi-{name}" / "provider"),
        recipe=f"engine-src/pulumi-{name}: go build ./{package} -ldflags {x_flags(stamps)}",
        sources=(f"pulumi-{name}",), installed=installed_provider(name, stamp), estimate=estimate,
    )


TOOLS: tuple[Tool, ...] = (
    Tool("pulumi", PULUMI_VERSION, ("pulumi", "pulumi-language-python", "pulumi-language-python-exec"),
         build_pulumi, PULUMI_RECIPE, sources=("pulumi-language-python",), installed=installed_pulumi,
         estimate="5-8 min, 2 GB"),
    provider_tool("kubernetes", KUBERNETES_PROVIDER_VERSION, "github.com/pulumi/pulumi-kubernetes/provider/v4",
                  "16 min, 4.4 GB"),
    provider_tool("command", COMMAND_PROVIDER_STAMP, "github.com/pulumi/pulumi-command/provider", "1 min, 1.2 GB"),
    provider_tool("random", RANDOM_PROVIDER_STAMP, "github.com/pulumi/pulumi-random/provider/v4", "3 min, 1.5 GB"),
    provider_tool("docker", DOCKER_PROVIDER_STAMP, "github.com/pulumi/pulumi-docker/provider/v5", "4 min, 1.5 GB"),
    Tool("etcd", ETCD_VERSION, ("etcd",), build_etcd, ETCD_RECIPE, estimate="1-2 min, 0.4 GB"),
    # kubectl is also the operations scripts' (restore-service, doctor), so the real tier needs none installed.
    Tool("kubernetes", KUBERNETES_VERSION, KUBERNETES_COMMANDS, build_kubernetes,
         kubernetes_recipe(["<staging modules of k8s.io/kubernetes>"]), estimate="16 min, 2.5 GB"),
    Tool("kwok", KWOK_VERSION, ("kwok",), go_install(f"sigs.k8s.io/kwok/cmd/kwok@v{KWOK_VERSION}"),
         f"go install sigs.k8s.io/kwok/cmd/kwok@v{KWOK_VERSION}", estimate="1 min, 1.1 GB"),
    # Static (CGO off): the same binaries go into the scratch MinIO image of the dev stack's tests.
    Tool("minio", MINIO_MODULE.split("@")[1], ("minio",), go_install(MINIO_MODULE),
         f"go install {MINIO_MODULE}", estimate="2 min, 1.6 GB"),
    Tool("mc", MC_MODULE.split("@")[1], ("mc",), go_install(MC_MODULE), f"go install {MC_MODULE}", estimate="20 s, 0.5 GB"),
    Tool("velero", VELERO_VERSION, VELERO_COMMANDS, build_velero, VELERO_RECIPE, estimate="4 min, 1.6 GB"),
    # With cp-plugin, the entrypoint of the plugin's image (it copies the plugin into Velero's pod).
    Tool("velero-plugin-for-aws", AWS_PLUGIN_VERSION, ("velero-plugin-for-aws", "cp-plugin"),
         go_install(*(f"{AWS_PLUGIN_MODULE}/{package}@v{AWS_PLUGIN_VERSION}" for package in ("velero-plugin-for-aws", "hack/cp-plugin"))),
         f"go install {AWS_PLUGIN_MODULE}/{{velero-plugin-for-aws,hack/cp-plugin}}@v{AWS_PLUGIN_VERSION}",
         estimate="2 min, 3.6 GB"),
    Tool("kind", KIND_VERSION, ("kind",), go_install(f"sigs.k8s.io/kind@v{KIND_VERSION}"),
         f"go install sigs.k8s.io/kind@v{KIND_VERSION}", estimate="20 s, 0.5 GB"),
    # What the kind node runs besides Kubernetes' own: its network, DNS, storage and pod sandbox.
    Tool("kindnetd", KIND_VERSION, ("kindnetd",), build_kindnetd, "engine-src/kindnetd: go build ./cmd/kindnetd",
         sources=("kindnetd",), estimate="1 min, 1 GB"),
    Tool("coredns", COREDNS_VERSION, ("coredns",), go_install(f"github.com/coredns/coredns@v{COREDNS_VERSION}"),
         f"go install github.com/coredns/coredns@v{COREDNS_VERSION}", estimate="2 min, 1.5 GB"),
    Tool("local-path-provisioner", LOCAL_PATH_PROVISIONER_VERSION, ("local-path-provisioner",),
         go_install(f"github.com/rancher/local-path-provisioner@v{LOCAL_PATH_PROVISIONER_VERSION}"),
         f"go install github.com/rancher/local-path-provisioner@v{LOCAL_PATH_PROVISIONER_VERSION}", estimate="1 min, 1 GB"),
    Tool("helm", HELM_VERSION, ("helm",), go_install(f"helm.sh/helm/v3/cmd/helm@v{HELM_VERSION}"),
         f"go install helm.sh/helm/v3/cmd/helm@v{HELM_VERSION}", estimate="2 min, 1.5 GB"),
    project_tool("pause", PAUSE_VERSION, estimate="5 s"),
    # The tests' own Docker daemon runs containers through it where the bounding set lacks capabilities.
    project_tool("runc-bounded", "1", estimate="5 s"),
)

# --- running go --------------------------------------------------------------------------------

HEARTBEAT_SECONDS = 60


def go_environment(extra: dict[str, str]) -> dict[str, str]:
    # GOTOOLCHAIN=local: never let a go.mod download another toolchain.
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


# --- cache, status, build ----------------------------------------------------------------------


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


def statuses() -> list[Status]:
    return [status_of(tool) for tool in TOOLS]


def locate(binaries: tuple[str, ...] = ()) -> dict[str, Path]:
    """The real tier's binaries by name (only those of the tools that make `binaries`, if given);
    ToolchainError naming what is missing."""
    found: dict[str, Path] = {}
    missing = []
    for tool in TOOLS:
        if binaries and not set(binaries) & set(tool.binaries):
            continue
        state = status_of(tool)
        if state.origin == "missing":
            missing.append(f"{tool.name} {tool.version}")
        found.update(state.paths)
    if missing:
        raise ToolchainError(f"the real tier's tools are not built: {', '.join(missing)} missing "
                             f"from {cache_root() / 'tools'}; run scripts/engine build (about 45 minutes the first time)")
    return found


def say(text: str) -> None:
    print(text, flush=True)


def elapsed(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


MIN_FREE_BYTES = 20 * 1024**3  # module sources, build cache and binaries of a cold build (RECIPE.md)


def check_prerequisites(missing: list[Tool]) -> None:
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


def go_env(name: str) -> str:
    return subprocess.run(["go", "env", name], capture_output=True, text=True, check=True).stdout.strip()


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    cache_root().mkdir(parents=True, exist_ok=True)
    with (cache_root() / ".build.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another build of the tools in {cache_root()} ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


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


def build(only: list[str] | None = None) -> int:
    chosen = [t for t in TOOLS if not only or t.name in only]
    unknown = set(only or []) - {t.name for t in TOOLS}
    if unknown:
        raise ToolchainError(f"unknown tool(s) {', '.join(sorted(unknown))}; known: {', '.join(t.name for t in TOOLS)}")
    started = time.monotonic()
    with build_lock():
        todo = [s.tool for s in map(status_of, chosen) if s.origin == "missing"]
        if not todo:
            say(f"all {len(chosen)} tools present in {cache_root() / 'tools'} (nothing to build)")
            return 0
        check_prerequisites(todo)
        say(f"building {len(todo)} of {len(chosen)} tools into {cache_root() / 'tools'}, one at a time")
        for index, tool in enumerate(todo, 1):
            build_tool(tool, index, len(todo))
    say(f"built {len(todo)} tool(s) in {elapsed(started)}")
    return 0


def check() -> int:
    states = statuses()
    width = max(len(s.tool.name) for s in states)
    for state in states:
        where = ", ".join(str(p) for p in state.paths.values()) if state.paths else f"not built (about {state.tool.estimate})"
        say(f"{state.origin:9} {state.tool.name:<{width}} {state.tool.version:<36} {where}")
    from . import images

    for image in images.IMAGES:
        state = "built" if image.built() else "missing"
        say(f"{state:9} {'image':<{width}} {image.reference:<36} {image.tarball() if image.built() else 'not built'}")
    missing = [s.tool.name for s in states if s.origin == "missing"] + [i.reference for i in images.IMAGES if not i.built()]
    present = len(states) + len(images.IMAGES) - len(missing)
    say(f"{present} present, {len(missing)} missing" + ("; run scripts/engine build" if missing else ""))
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list what is present and what is missing")
    parser.add_argument("command", nargs="?", choices=["build", "check", "path"], default="build")
    parser.add_argument("tools", nargs="*", help="build only these (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.check or args.command == "check":
            return check()
        from . import images

        if args.command == "path":
            for name, path in locate().items():
                say(f"{name}\t{path}")
            for reference, tarball in images.listing():
                say(f"{reference}\t{tarball}")
            return 0
        code = build(args.tools)
        return code or (images.build_all() if not args.tools else 0)
    except ToolchainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; a tool half built is thrown away on the next run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
