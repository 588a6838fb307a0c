"""The container images of the real tier's kind cluster, built here, never pulled.

    python3 -m realtier.toolchain build     builds the tools, then these images
    python3 -m realtier.toolchain path      lists each image as IMAGE-REFERENCE<TAB>TARBALL

Every image is made from the tools' static binaries (realtier/toolchain.py) and Debian's packages
(debootstrap), under the exact name the cluster asks for: the names kind v0.30.0 and kubeadm
v1.34.4 pull (control plane, etcd, CoreDNS, pause, kindnetd, local-path), and the names the
Velero chart and the dev stack use (velero/velero, velero/velero-plugin-for-aws). The kind node
image is assembled as `kind build node-image` does, by hand, since that command cannot run offline
(../shared/engine-src/RECIPE.md, "Real pods on this machine"). Each image is kept as a `docker save`
tarball in the tools cache, under a key made of its recipe and the keys of what it is made from.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import toolchain
from .toolchain import ToolchainError, say

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("BRRTROUTER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUSYBOX = Path("/bin/busybox")

KIND_NODE_IMAGE = f"brrtrouter.local/kind-node:v{toolchain.KUBERNETES_VERSION}"
# kind v0.30.0's own images (pkg/build/nodeimage/const_*.go) and kubeadm v1.34.4's (constants.go).
KINDNETD_IMAGE = "docker.io/kindest/kindnetd:v20250512-df8de77b"
LOCAL_PATH_PROVISIONER_IMAGE = "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a"
LOCAL_PATH_HELPER_IMAGE = "docker.io/kindest/local-path-helper:v20241212-8ac705d0"
ETCD_IMAGE = f"registry.k8s.io/etcd:{toolchain.ETCD_VERSION}-0"
COREDNS_IMAGE = f"registry.k8s.io/coredns/coredns:v{toolchain.COREDNS_VERSION}"
PAUSE_IMAGES = ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10.1")  # kind's sandbox, kubeadm's list
VELERO_IMAGE = f"velero/velero:v{toolchain.VELERO_VERSION}"
# The dev stack's minioImage in the tests (quay.io/minio/minio cannot be pulled here).
MINIO_IMAGE = "brrtrouter.local/minio:built"
AWS_PLUGIN_IMAGE = f"velero/velero-plugin-for-aws:v{toolchain.AWS_PLUGIN_VERSION}"


@dataclass(frozen=True)
class Image:
    """One image: its names, what it is made of, and how."""

    references: tuple[str, ...]
    recipe: str  # the Dockerfile or the steps; part of the key
    make: Callable[["Image", Path], None]  # builds it into the daemon under its references
    tools: tuple[str, ...] = ()  # tools whose binaries it carries
    bases: tuple[str, ...] = ()  # references of the images it is built on or carries
    estimate: str = "seconds"

    @property
    def reference(self) -> str:
        return self.references[0]

    def key(self) -> str:
        digest = hashlib.sha256("\n".join([*self.references, self.recipe]).encode())
        for tool in self.tools:
            digest.update(tool_named(tool).key().encode())
        for base in self.bases:
            digest.update(image_named(base).key().encode())
        return digest.hexdigest()[:12]

    def tarball(self) -> Path:
        slug = re.sub(r"[^a-z0-9.]+", "-", self.reference.split("/")[-1].lower())
        return toolchain.cache_root() / "images" / f"{slug}-{self.key()}.tar"

    def built(self) -> bool:
        return self.tarball().is_file()


def tool_named(name: str) -> toolchain.Tool:
    return next(tool for tool in toolchain.TOOLS if tool.name == name)


def image_named(reference: str) -> Image:
    return next(image for image in IMAGES if reference in image.references)


# --- running docker ---------------------------------------------------------------------------


def docker(*args: str, input: bytes | None = None, timeout: float = 1800) -> str:
    result = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise ToolchainError(f"docker {' '.join(args[:3])}: {result.stderr.decode(errors='replace').strip()[-1500:]}")
    return result.stdout.decode(errors="replace")


def present(reference: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0


def load(image: Image) -> None:
    """Make the daemon hold `image` under all its names, from its tarball."""
    if all(present(reference) for reference in image.references):
        return
    docker("load", "--input", str(image.tarball()))


def ensure_loaded(references: tuple[str, ...] | list[str]) -> None:
    """Load into the running daemon every image named that it lacks (the tests' daemon)."""
    for reference in references:
        image = image_named(reference)
        if not image.built():
            raise ToolchainError(f"the image {reference} is not built; run scripts/engine build")
        load(image)


def binaries_of(*tools: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in tools:
        state = toolchain.status_of(tool_named(name))
        if state.origin != "built":
            raise ToolchainError(f"{name} must be built before the images made from it (scripts/engine build)")
        found.update(state.paths)
    return found


# --- images from a Dockerfile -------------------------------------------------------------------


def dockerfile_image(references: tuple[str, ...], dockerfile: str, tools: tuple[str, ...] = (),
                     bases: tuple[str, ...] = (), busybox: bool = False) -> Image:
    """An image built by `docker build` from a Dockerfile whose context holds the tools' binaries
    (and Debian's static busybox, if asked for)."""

    def make(image: Image, context: Path) -> None:
        ensure_loaded(bases)
        for name, path in binaries_of(*tools).items():
            shutil.copy2(path, context / name)
        if busybox:
            if not BUSYBOX.is_file():
                raise ToolchainError(f"{BUSYBOX} is missing: apt-get install busybox-static")
            shutil.copy2(BUSYBOX, context / "busybox")
        (context / "Dockerfile").write_text(dockerfile)
        tags = [arg for reference in image.references for arg in ("--tag", reference)]
        docker("build", "--quiet", *tags, str(context))

    return Image(references, dockerfile + f"\nbusybox={busybox}", make, tools, bases)


def binary_image(reference: str, tool: str, binary: str, *, entrypoint: bool = False, base: str | None = None) -> Image:
    """One static binary in /usr/local/bin, on an empty image or on `base`."""
    lines = [f"FROM {base or 'scratch'}", f"COPY {binary} /usr/local/bin/{binary}",
             "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    if entrypoint:
        lines.append(f'ENTRYPOINT ["/usr/local/bin/{binary}"]')
    return dockerfile_image((reference,), "\n".join(lines) + "\n", (tool,), (base,) if base else ())


# The shell of the images that need one (the MinIO set-up script, local-path's helper pods).
BUSYBOX_LINES = ['COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]']


# --- Debian root file systems -------------------------------------------------------------------


def debian_image(reference: str, packages: tuple[str, ...], changes: tuple[str, ...] = ()) -> Image:
    """A Debian root file system made by debootstrap (minbase plus `packages`), imported."""
    recipe = f"debootstrap --variant=minbase --include={','.join(packages)} {DEBIAN_SUITE}\n{changes}"

    def make(image: Image, work: Path) -> None:
        if not shutil.which("debootstrap"):
            raise ToolchainError("debootstrap is missing: apt-get install debootstrap (it makes the images' Debian base)")
        if os.geteuid() != 0:
            raise ToolchainError("debootstrap needs root to make the images' Debian base")
        root = work / "rootfs"
        cache = toolchain.cache_root() / "debootstrap-cache"
        cache.mkdir(parents=True, exist_ok=True)
        command = ["debootstrap", "--variant=minbase", f"--cache-dir={cache}", f"--include={','.join(packages)}",
                   DEBIAN_SUITE, str(root), DEBIAN_MIRROR]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            raise ToolchainError(f"debootstrap failed: {(result.stdout + result.stderr).strip()[-1500:]}")
        for folder in ("usr/share/doc", "usr/share/man", "usr/share/locale", "var/lib/apt/lists", "var/cache/apt"):
            shutil.rmtree(root / folder, ignore_errors=True)
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        args = ["import"] + [arg for change in changes for arg in ("--change", change)] + ["-", image.reference]
        imported = subprocess.run(["docker", *args], stdin=tar.stdout, capture_output=True, timeout=1800)
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise ToolchainError(f"docker import of {image.reference}: {imported.stderr.decode(errors='replace')[-1000:]}")

    return Image((reference,), recipe, make, estimate="2 min")


# --- the kind node ------------------------------------------------------------------------------

NODE_PACKAGES = ("systemd", "systemd-sysv", "containerd", "runc", "conntrack", "iptables", "nftables", "iproute2",
                 "ethtool", "util-linux", "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates", "curl",
                 "jq", "procps", "containernetworking-plugins")
NET_PACKAGES = ("iptables", "nftables", "conntrack", "iproute2", "ca-certificates")
NODE_BASE = f"brrtrouter.local/kind-node-base:{DEBIAN_SUITE}"
NET_BASE = f"brrtrouter.local/debian-net:{DEBIAN_SUITE}"
CNI_PLUGINS = ("host-local", "loopback", "ptp", "portmap")

# What kind's base image Dockerfile does after installing its packages (images/base/Dockerfile),
# with Debian's containerd and runc in place of the ones it builds, and two changes for machines
# whose capability bounding set lacks CAP_SYS_RESOURCE: containerd clamps oom_score_adj instead of
# failing every sandbox (restrict_oom_score_adj), and no proxy plugin (fuse-overlayfs, rootless only).
NODE_SETUP = r"""set -eu
chmod 755 /kind/bin /kind/bin/* /usr/local/bin/entrypoint /usr/local/bin/clean-install
find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >> /etc/systemd/journald.conf
ln -sf "$(command -v systemd)" /sbin/init
ln -sf /usr/bin/containerd /usr/local/bin/containerd
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests /opt/cni/bin
for plugin in host-local loopback ptp portmap; do ln -sf /usr/lib/cni/$plugin /opt/cni/bin/$plugin; done
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json
sed -i -e '/^\[proxy_plugins\]/,/^  address = /d' -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
  /etc/containerd/config.toml
grep -q 'restrict_oom_score_adj = true' /etc/containerd/config.toml
chmod 755 /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl
"""

# Load the images into the node's containerd content store, as kind's build does (no unpacking:
# the node unpacks them when it first runs them), pinned so the kubelet never collects them.
NODE_IMPORT = r"""set -eu
nohup containerd > /tmp/containerd.log 2>&1 &
for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && break; sleep 0.5; done
for archive in /kind/images/*.tar; do
  ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests "$archive" > /dev/null
done
for name in $(ctr --namespace=k8s.io images list -q | grep -v '^sha256:'); do
  ctr --namespace=k8s.io images label "$name" io.cri-containerd.pinned=pinned > /dev/null
done
ctr --namespace=k8s.io images list -q
pkill containerd
for i in $(seq 1 60); do pgrep -x containerd > /dev/null || break; sleep 0.5; done
rm -rf /kind/images /tmp/containerd.log
"""


def kind_manifest(source: Path, constant: str, values: dict[str, str]) -> str:
    """A manifest that kind keeps as a Go string constant: raw strings and the named constants in
    `values`, joined by + (const NAME = `...` + image + `...`)."""
    text = source.read_text()
    found = re.search(rf"^const {constant} = ", text, flags=re.M)
    if not found:
        raise ToolchainError(f"{source}: no constant {constant}")
    position, parts = found.end(), []
    while True:
        if text.startswith("`", position):
            end = text.index("`", position + 1)
            parts.append(text[position + 1:end])
            position = end + 1
        else:
            name = re.match(r"[A-Za-z_]\w*", text[position:])
            if not name or name.group(0) not in values:
                raise ToolchainError(f"{source}: {constant} refers to a constant this build does not know "
                                     f"({name.group(0) if name else text[position:position + 20]!r})")
            parts.append(values[name.group(0)])
            position += name.end()
        joined = re.match(r"\s*\+\s*", text[position:])
        if not joined:
            return "".join(parts)
        position += joined.end()


def node_image() -> Image:
    preloaded = tuple(reference for image in NODE_PRELOADED for reference in image.references)
    recipe = "\n".join([NODE_SETUP, NODE_IMPORT, *preloaded])

    def make(image: Image, work: Path) -> None:
        ensure_loaded([NODE_BASE])
        kind = kind_module()
        binaries = binaries_of("kubernetes")
        container = f"brrtrouter-node-build-{os.getpid()}"
        docker("run", "-d", "--name", container, "--entrypoint=sleep", "--security-opt", "seccomp=unconfined",
               NODE_BASE, "infinity")
        try:
            files = kind / "images" / "base" / "files"
            for folder in ("usr/local/bin", "kind", "etc"):
                docker("cp", f"{files / folder}/.", f"{container}:/{folder}")
            for name in ("kubeadm", "kubelet", "kubectl"):
                docker("cp", str(binaries[name]), f"{container}:/usr/bin/{name}")
            manifests = work / "manifests"
            manifests.mkdir()
            nodeimage = kind / "pkg" / "build" / "nodeimage"
            (manifests / "default-cni.yaml").write_text(kind_manifest(
                nodeimage / "const_cni.go", "defaultCNIManifest", {"kindnetdImage": KINDNETD_IMAGE}))
            (manifests / "default-storage.yaml").write_text(kind_manifest(
                nodeimage / "const_storage.go", "defaultStorageManifest",
                {"storageProvisionerImage": LOCAL_PATH_PROVISIONER_IMAGE, "storageHelperImage": LOCAL_PATH_HELPER_IMAGE}))
            (manifests / "version").write_text(f"v{toolchain.KUBERNETES_VERSION}")
            docker("cp", str(manifests / "version"), f"{container}:/kind/version")
            docker("exec", container, "mkdir", "-p", "/kind/manifests", "/kind/images")
            for name in ("default-cni.yaml", "default-storage.yaml"):
                docker("cp", str(manifests / name), f"{container}:/kind/manifests/{name}")
            docker("exec", "-i", container, "bash", "-s", input=NODE_SETUP.encode())
            for carried in NODE_PRELOADED:
                docker("cp", str(carried.tarball()), f"{container}:/kind/images/{carried.tarball().name}")
            listed = docker("exec", "-i", container, "bash", "-s", input=NODE_IMPORT.encode())
            missing = [reference for reference in preloaded if normalized(reference) not in listed.split()]
            if missing:
                raise ToolchainError(f"the node's containerd lacks {', '.join(missing)} after the import:\n{listed}")
            committed = f"{image.reference}-commit"
            docker("commit", "--change", 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
                   "--change", "ENV container=docker", container, committed)
            # systemd stops on SIGRTMIN+3 (SIGTERM re-executes it); `docker commit` cannot set that.
            (work / "Dockerfile").write_text(f"FROM {committed}\nSTOPSIGNAL SIGRTMIN+3\n")
            docker("build", "--quiet", "--tag", image.reference, str(work))
            docker("image", "rm", committed)
        finally:
            subprocess.run(["docker", "rm", "--force", "--volumes", container], capture_output=True, timeout=120)

    bases = (NODE_BASE, *preloaded)
    return Image((KIND_NODE_IMAGE,), recipe, make, ("kubernetes", "kind"), bases, estimate="3 min")


def normalized(reference: str) -> str:
    """A reference as containerd names it (docker.io/library/... for short names)."""
    first = reference.split("/")[0]
    if "/" not in reference:
        return f"docker.io/library/{reference}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{reference}"
    return reference


def kind_module() -> Path:
    """kind's module source (its base image files and manifests), from the Go module cache."""
    result = subprocess.run(["go", "mod", "download", "-json", f"sigs.k8s.io/kind@v{toolchain.KIND_VERSION}"],
                            capture_output=True, text=True, env=toolchain.go_environment({}), cwd=tempfile.gettempdir())
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or "Dir" not in info:
        raise ToolchainError(f"kind v{toolchain.KIND_VERSION}'s module is not to be had: {info.get('Error') or result.stderr}")
    return Path(info["Dir"])


# --- the catalogue ------------------------------------------------------------------------------

K8S = f"v{toolchain.KUBERNETES_VERSION}"
VELERO_DOCKERFILE = """FROM scratch
""" + "\n".join(BUSYBOX_LINES) + """
RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/home/velero"]
RUN ["/bin/busybox", "chmod", "1777", "/tmp"]
COPY velero velero-restore-helper velero-helper /
ENV PATH=/:/bin HOME=/home/velero
ENTRYPOINT ["/velero"]
"""
# The plugin image as upstream's Dockerfile makes it: the plugin and cp-plugin, as user 65532.
AWS_PLUGIN_DOCKERFILE = """FROM scratch
COPY velero-plugin-for-aws /plugins/
COPY cp-plugin /bin/cp-plugin
USER 65532:65532
ENTRYPOINT ["cp-plugin", "/plugins/velero-plugin-for-aws", "/target/velero-plugin-for-aws"]
"""

BASES = (
    debian_image(NODE_BASE, NODE_PACKAGES),
    debian_image(NET_BASE, NET_PACKAGES),
)
NODE_PRELOADED = (
    *(binary_image(f"registry.k8s.io/{command}:{K8S}", "kubernetes", command)
      for command in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")),
    binary_image(f"registry.k8s.io/kube-proxy:{K8S}", "kubernetes", "kube-proxy", base=NET_BASE),
    binary_image(ETCD_IMAGE, "etcd", "etcd"),
    binary_image(COREDNS_IMAGE, "coredns", "coredns", entrypoint=True),
    dockerfile_image(PAUSE_IMAGES, 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n', ("pause",)),
    dockerfile_image((KINDNETD_IMAGE,), f'FROM {NET_BASE}\nCOPY kindnetd /bin/kindnetd\nCMD ["/bin/kindnetd"]\n',
                     ("kindnetd",), (NET_BASE,)),
    binary_image(LOCAL_PATH_PROVISIONER_IMAGE, "local-path-provisioner", "local-path-provisioner", entrypoint=True),
    dockerfile_image((LOCAL_PATH_HELPER_IMAGE,), "FROM scratch\n" + "\n".join(BUSYBOX_LINES) + "\n", busybox=True),
    dockerfile_image((VELERO_IMAGE,), VELERO_DOCKERFILE, ("velero",), busybox=True),
    dockerfile_image((AWS_PLUGIN_IMAGE,), AWS_PLUGIN_DOCKERFILE, ("velero-plugin-for-aws",)),
)
# MinIO for the dev stack's container: Debian's static busybox gives it the shell the MinioServer
# component's set-up script runs in, and `mc ready local` its healthcheck.
MINIO_DOCKERFILE = """FROM scratch
""" + "\n".join(BUSYBOX_LINES) + """
RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/root", "/usr/bin", "/data"]
COPY minio mc /usr/bin/
ENV PATH=/usr/bin:/bin HOME=/root
ENTRYPOINT ["/usr/bin/minio"]
"""
# The application's workloads, as the tests deploy them into the dev cluster (the program does
# not): Postgres and Redis from Debian's packages (the services whose volumes matter more than
# their servers run the node's busybox, LOCAL_PATH_HELPER_IMAGE). Loaded into the node with
# `kind load`, as the app's own images are.
WORKLOAD_BASE = f"brrtrouter.local/debian-workloads:{DEBIAN_SUITE}"
POSTGRES_VERSION = "15"  # Debian bookworm's; the seed's platform runs 16
POSTGRES_IMAGE = f"brrtrouter.local/postgres:{POSTGRES_VERSION}"
REDIS_IMAGE = "brrtrouter.local/redis:7"
WORKLOADS = Path(__file__).with_name("workloads")
POSTGRES_DOCKERFILE = f"""FROM {WORKLOAD_BASE}
COPY postgres-entrypoint /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/{POSTGRES_VERSION}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data/pgdata
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
"""
REDIS_DOCKERFILE = f"""FROM {WORKLOAD_BASE}
ENTRYPOINT ["redis-server"]
CMD ["--appendonly", "yes", "--dir", "/data", "--bind", "0.0.0.0", "--protected-mode", "no"]
"""


def workload_image(reference: str, dockerfile: str, files: tuple[str, ...] = ()) -> Image:
    """An image FROM the workloads' Debian base, with files of realtier/workloads/."""
    image = dockerfile_image((reference,), dockerfile, bases=(WORKLOAD_BASE,))
    texts = "".join(f"-- {name} --\n{(WORKLOADS / name).read_text()}" for name in files)

    def make(self: Image, context: Path) -> None:
        for name in files:
            shutil.copy2(WORKLOADS / name, context / name)
        image.make(self, context)

    return Image(image.references, image.recipe + texts, make, bases=image.bases)


WORKLOAD_IMAGES = (
    debian_image(WORKLOAD_BASE, ("postgresql", "redis-server", "redis-tools", "procps")),
    workload_image(POSTGRES_IMAGE, POSTGRES_DOCKERFILE, ("postgres-entrypoint",)),
    workload_image(REDIS_IMAGE, REDIS_DOCKERFILE),
)
IMAGES: tuple[Image, ...] = (*BASES, *NODE_PRELOADED, node_image(),
                             dockerfile_image((MINIO_IMAGE,), MINIO_DOCKERFILE, ("minio", "mc"), busybox=True),
                             *WORKLOAD_IMAGES)


# --- build ------------------------------------------------------------------------------------


def build_image(image: Image, index: int, total: int) -> None:
    started = time.monotonic()
    say(f"[{index:2}/{total}] image {image.reference}: building (about {image.estimate})")
    tarball = image.tarball()
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brrtrouter-image-", dir=toolchain.cache_root()) as folder:
        image.make(image, Path(folder))
    partial = tarball.with_suffix(".partial")
    docker("save", "--output", str(partial), *image.references)
    partial.rename(tarball)
    say(f"[{index:2}/{total}] image {image.reference}: built in {toolchain.elapsed(started)} "
        f"({tarball.stat().st_size / 1024**2:.0f} MB)")


def build_all() -> int:
    """Build every image that is missing, in a Docker daemon (the machine's, or one started here)."""
    todo = [image for image in IMAGES if not image.built()]
    if not todo:
        say(f"all {len(IMAGES)} images present in {toolchain.cache_root() / 'images'} (nothing to build)")
        return 0
    from .dockerd import DockerUnavailable, daemon

    log_dir = toolchain.cache_root() / "logs"
    try:
        with daemon(log_dir) as state:
            say(f"building {len(todo)} of {len(IMAGES)} images with {'the running' if state == 'running' else 'a started'} Docker daemon")
            for index, image in enumerate(todo, 1):
                build_image(image, index, len(todo))
    except DockerUnavailable as error:
        raise ToolchainError(str(error)) from error
    return 0


def listing() -> list[tuple[str, Path]]:
    """(reference, tarball) of every image, built or not."""
    return [(reference, image.tarball()) for image in IMAGES for reference in image.references]
