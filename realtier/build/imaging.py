"""How an image is built and kept: the mechanics behind the catalogue in images.py.

An Image is data: its names, its recipe, the tools whose binaries it carries and the images it is
built on. It is built in a Docker daemon and kept as a `docker save` tarball in the cache, under a
key made of its recipe and the keys of its tools and bases, so a changed pin rebuilds exactly the
images made from it. The kind node is assembled here as `kind build node-image` does, by hand,
since that command cannot run offline (../shared/engine-src/RECIPE.md, "Real pods on this machine").
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
from typing import Callable, Sequence

from .cache import ToolchainError, cache_root, elapsed, say
from .gobuild import Tool, go_environment, status_of

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("BRRTROUTER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUSYBOX = Path("/bin/busybox")
# The shell of the images that need one (the MinIO set-up script, local-path's helper pods).
BUSYBOX_LINES = ['COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]']


@dataclass(frozen=True)
class Image:
    """One image: its names, what it is made of, and how."""

    references: tuple[str, ...]
    recipe: str  # the Dockerfile or the steps; part of the key
    make: Callable[["Image", Path], None]  # builds it into the daemon under its references
    tools: tuple[Tool, ...] = ()  # tools whose binaries it carries
    bases: tuple["Image", ...] = ()  # the images it is built on or carries
    estimate: str = "seconds"

    @property
    def reference(self) -> str:
        return self.references[0]

    def key(self) -> str:
        digest = hashlib.sha256("\n".join([*self.references, self.recipe]).encode())
        for tool in self.tools:
            digest.update(tool.key().encode())
        for base in self.bases:
            digest.update(base.key().encode())
        return digest.hexdigest()[:12]

    def tarball(self) -> Path:
        slug = re.sub(r"[^a-z0-9.]+", "-", self.reference.split("/")[-1].lower())
        return cache_root() / "images" / f"{slug}-{self.key()}.tar"

    def built(self) -> bool:
        return self.tarball().is_file()


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
    if not image.built():
        raise ToolchainError(f"the image {image.reference} is not built; run scripts/engine build")
    docker("load", "--input", str(image.tarball()))


def binaries_of(*tools: Tool) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for tool in tools:
        state = status_of(tool)
        if state.origin != "built":
            raise ToolchainError(f"{tool.name} must be built before the images made from it (scripts/engine build)")
        found.update(state.paths)
    return found


# --- images from a Dockerfile -------------------------------------------------------------------


def dockerfile_image(references: tuple[str, ...], dockerfile: str, tools: tuple[Tool, ...] = (),
                     bases: tuple[Image, ...] = (), busybox: bool = False, files: Sequence[Path] = ()) -> Image:
    """An image built by `docker build` from a Dockerfile whose context holds the tools' binaries,
    Debian's static busybox if asked for, and `files` (their texts are part of the recipe)."""

    def make(image: Image, context: Path) -> None:
        for base in bases:
            load(base)
        for name, path in binaries_of(*tools).items():
            shutil.copy2(path, context / name)
        if busybox:
            if not BUSYBOX.is_file():
                raise ToolchainError(f"{BUSYBOX} is missing: apt-get install busybox-static")
            shutil.copy2(BUSYBOX, context / "busybox")
        for path in files:
            shutil.copy2(path, context / path.name)
        (context / "Dockerfile").write_text(dockerfile)
        tags = [arg for reference in image.references for arg in ("--tag", reference)]
        docker("build", "--quiet", *tags, str(context))

    recipe = dockerfile + f"\nbusybox={busybox}" + "".join(f"-- {path.name} --\n{path.read_text()}" for path in files)
    return Image(references, recipe, make, tools, bases)


def binary_image(reference: str, tool: Tool, binary: str, *, entrypoint: bool = False, base: Image | None = None) -> Image:
    """One static binary in /usr/local/bin, on an empty image or on `base`."""
    lines = [f"FROM {base.reference if base else 'scratch'}", f"COPY {binary} /usr/local/bin/{binary}",
             "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    if entrypoint:
        lines.append(f'ENTRYPOINT ["/usr/local/bin/{binary}"]')
    return dockerfile_image((reference,), "\n".join(lines) + "\n", (tool,), (base,) if base else ())


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
        cache = cache_root() / "debootstrap-cache"
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


@dataclass(frozen=True)
class KindNode:
    """What a kind node image is made of: kind's own files (its module), a Debian base with systemd
    and containerd, Kubernetes' node binaries, and the images its containerd carries."""

    reference: str
    kubernetes: Tool  # kubeadm, kubelet, kubectl
    kind: Tool
    kubernetes_version: str
    kind_version: str
    base: Image
    preloaded: tuple[Image, ...]
    # kind's manifests are Go string constants; these are the image constants they refer to.
    cni_images: dict[str, str]
    storage_images: dict[str, str]


def kind_node_image(node: KindNode) -> Image:
    preloaded = tuple(reference for image in node.preloaded for reference in image.references)
    recipe = "\n".join([NODE_SETUP, NODE_IMPORT, *preloaded])

    def make(image: Image, work: Path) -> None:
        load(node.base)
        kind = kind_module(node.kind_version)
        binaries = binaries_of(node.kubernetes)
        container = f"brrtrouter-node-build-{os.getpid()}"
        docker("run", "-d", "--name", container, "--entrypoint=sleep", "--security-opt", "seccomp=unconfined",
               node.base.reference, "infinity")
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
                nodeimage / "const_cni.go", "defaultCNIManifest", node.cni_images))
            (manifests / "default-storage.yaml").write_text(kind_manifest(
                nodeimage / "const_storage.go", "defaultStorageManifest", node.storage_images))
            (manifests / "version").write_text(f"v{node.kubernetes_version}")
            docker("cp", str(manifests / "version"), f"{container}:/kind/version")
            docker("exec", container, "mkdir", "-p", "/kind/manifests", "/kind/images")
            for name in ("default-cni.yaml", "default-storage.yaml"):
                docker("cp", str(manifests / name), f"{container}:/kind/manifests/{name}")
            docker("exec", "-i", container, "bash", "-s", input=NODE_SETUP.encode())
            for carried in node.preloaded:
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

    # A base per name the node carries: an image with two names counts twice, as it always has.
    bases = (node.base, *(image for image in node.preloaded for _ in image.references))
    return Image((node.reference,), recipe, make, (node.kubernetes, node.kind), bases, estimate="3 min")


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


def normalized(reference: str) -> str:
    """A reference as containerd names it (docker.io/library/... for short names)."""
    first = reference.split("/")[0]
    if "/" not in reference:
        return f"docker.io/library/{reference}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{reference}"
    return reference


def kind_module(version: str) -> Path:
    """kind's module source (its base image files and manifests), from the Go module cache."""
    result = subprocess.run(["go", "mod", "download", "-json", f"sigs.k8s.io/kind@v{version}"],
                            capture_output=True, text=True, env=go_environment({}), cwd=tempfile.gettempdir())
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or "Dir" not in info:
        raise ToolchainError(f"kind v{version}'s module is not to be had: {info.get('Error') or result.stderr}")
    return Path(info["Dir"])


# --- build ------------------------------------------------------------------------------------


def build_image(image: Image, index: int, total: int) -> None:
    started = time.monotonic()
    say(f"[{index:2}/{total}] image {image.reference}: building (about {image.estimate})")
    tarball = image.tarball()
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brrtrouter-image-", dir=cache_root()) as folder:
        image.make(image, Path(folder))
    partial = tarball.with_suffix(".partial")
    docker("save", "--output", str(partial), *image.references)
    partial.rename(tarball)
    say(f"[{index:2}/{total}] image {image.reference}: built in {elapsed(started)} "
        f"({tarball.stat().st_size / 1024**2:.0f} MB)")


def build_missing(images: Sequence[Image], daemon_state: str) -> None:
    """Build every image of `images` that is missing, in the running Docker daemon (in order: an
    image's bases come before it in the catalogue)."""
    todo = [image for image in images if not image.built()]
    say(f"building {len(todo)} of {len(images)} images with {'the running' if daemon_state == 'running' else 'a started'} Docker daemon")
    for index, image in enumerate(todo, 1):
        build_image(image, index, len(todo))
