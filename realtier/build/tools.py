"""The real tier's tools: their pins and how each is built. One entry of TOOLS per tool.

Every binary comes from the Go module proxy or from ../shared/engine-src (RECIPE.md there). The
build mechanics (cache, keys, the Go environment) are in gobuild.py; `scripts/engine` (the package's
__main__) builds and lists these and the images. Standard library only: it runs before the
project's virtualenv exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from .cache import PROJECT_DIR, ToolchainError, cache_root, engine_src
from .gobuild import LDFLAGS, Build, Tool, go_install, status_of, tools_go, wrapper_module, write_wrapper, x_flags

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
PULUMI_YAML_VERSION = "1.25.0"  # the language host of the package's YAML consumer (v1.15+ reads `packages:`)

# The oldest installed Pulumi CLI the tests accept instead of building one: the SDK's own version.
MIN_INSTALLED_PULUMI = (3, 272, 0)


# --- the tools -------------------------------------------------------------------------------

PULUMI_SDK_VERSION_PKG = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
PULUMI_RECIPE = wrapper_module(
    "pulumi",
    [f"github.com/pulumi/pulumi/pkg/v3 v{PULUMI_VERSION}", f"github.com/pulumi/pulumi/sdk/v3 v{PULUMI_VERSION}"],
    ["github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"],
    {"tools.go": tools_go("github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")},
)


PULUMI_FLAGS = x_flags({PULUMI_SDK_VERSION_PKG: f"v{PULUMI_VERSION}"})
# pulumi-yaml's plugin loader (pulumi v3.206) starts the language host of a Python component
# package with -root=DIR and each runtime option of its PulumiPlugin.yaml as -KEY=VALUE: flags this
# host does not declare ("flag provided but not defined", exit 2). It reads all of them from the
# request, so it only has to accept them.
PYTHON_HOST_FLAG_PARSE = "\tflag.Parse()\n"
PYTHON_HOST_LOADER_FLAGS = "".join(
    f'\tflag.String("{name}", "", "passed by pulumi-yaml\'s plugin loader; read from the request instead")\n'
    for name in ("root", "toolchain", "virtualenv", "typechecker"))


def build_pulumi(b: Build) -> None:
    host = b.work / "cmd" / "pulumi-language-python"
    shutil.copytree(engine_src() / "pulumi-language-python", host)
    main_go = host / "main.go"
    text = main_go.read_text()
    if text.count(PYTHON_HOST_FLAG_PARSE) != 1:
        raise ToolchainError(f"{main_go}: expected one `flag.Parse()` to declare the loader's flags before; the host's source changed")
    main_go.write_text(text.replace(PYTHON_HOST_FLAG_PARSE, PYTHON_HOST_LOADER_FLAGS + PYTHON_HOST_FLAG_PARSE))
    write_wrapper(b, PULUMI_RECIPE)
    b.go("build", "-trimpath", "-ldflags", PULUMI_FLAGS, "-o", str(b.out / "pulumi"), "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")
    b.go("build", "-trimpath", "-ldflags", PULUMI_FLAGS, "-o", str(b.out / "pulumi-language-python"), "./cmd/pulumi-language-python")
    # The language host runs the program through this script, which ships in the SDK's sources.
    sdk = b.module_dir("github.com/pulumi/pulumi/sdk/v3", f"v{PULUMI_VERSION}")
    exec_script = b.out / "pulumi-language-python-exec"
    shutil.copyfile(sdk / "python" / "cmd" / "pulumi-language-python-exec", exec_script)
    exec_script.chmod(0o755)


def build_nodejs_host(b: Build) -> None:
    # The same pulumi commit and wrapper module as the CLI's, so its module downloads are shared.
    shutil.copytree(engine_src() / "pulumi-language-nodejs", b.work / "cmd" / "pulumi-language-nodejs")
    write_wrapper(b, PULUMI_RECIPE)
    b.go("build", "-trimpath", "-ldflags", PULUMI_FLAGS, "-o", str(b.out / "pulumi-language-nodejs"), "./cmd/pulumi-language-nodejs")


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
         build_pulumi, PULUMI_RECIPE + f"\npatch cmd/pulumi-language-python/main.go: {PYTHON_HOST_LOADER_FLAGS}",
         sources=("pulumi-language-python",), installed=installed_pulumi, estimate="5-8 min, 2 GB"),
    # The language hosts of the package's TypeScript and YAML consumers (tests/real/test_package_consumers.py).
    Tool("pulumi-language-nodejs", PULUMI_VERSION, ("pulumi-language-nodejs",), build_nodejs_host, PULUMI_RECIPE,
         sources=("pulumi-language-nodejs",), estimate="16 s after the CLI, 1 GB"),
    Tool("pulumi-language-yaml", PULUMI_YAML_VERSION, ("pulumi-language-yaml",),
         go_install(f"github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v{PULUMI_YAML_VERSION}",
                    stamps={"github.com/pulumi/pulumi-yaml/pkg/version.Version": f"v{PULUMI_YAML_VERSION}"}),
         f"go install github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v{PULUMI_YAML_VERSION}",
         estimate="7.5 min, 2 GB"),
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


def tool_named(name: str) -> Tool:
    return next(tool for tool in TOOLS if tool.name == name)


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
