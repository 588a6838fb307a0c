"""The container images of the real tier's kind cluster, built here, never pulled. One entry each.

Every image is made from the tools' static binaries (tools.py) and Debian's packages (debootstrap),
under the exact name the cluster asks for: the names kind v0.30.0 and kubeadm v1.34.4 pull
(control plane, etcd, CoreDNS, pause, kindnetd, local-path), and the names the Velero chart and
the dev stack use (velero/velero, velero/velero-plugin-for-aws). How they are built and kept is
imaging.py. Standard library only.
"""

from __future__ import annotations

from pathlib import Path

from .cache import PROJECT_DIR
from .imaging import (
    BUSYBOX_LINES,
    DEBIAN_SUITE,
    Image,
    KindNode,
    binary_image,
    debian_image,
    dockerfile_image,
    kind_node_image,
    load,
)
from .tools import (
    AWS_PLUGIN_VERSION,
    COREDNS_VERSION,
    ETCD_VERSION,
    KIND_VERSION,
    KUBERNETES_VERSION,
    VELERO_VERSION,
    tool_named,
)

KIND_NODE_IMAGE = f"brrtrouter.local/kind-node:v{KUBERNETES_VERSION}"
# kind v0.30.0's own images (pkg/build/nodeimage/const_*.go) and kubeadm v1.34.4's (constants.go).
KINDNETD_IMAGE = "docker.io/kindest/kindnetd:v20250512-df8de77b"
LOCAL_PATH_PROVISIONER_IMAGE = "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a"
LOCAL_PATH_HELPER_IMAGE = "docker.io/kindest/local-path-helper:v20241212-8ac705d0"
ETCD_IMAGE = f"registry.k8s.io/etcd:{ETCD_VERSION}-0"
COREDNS_IMAGE = f"registry.k8s.io/coredns/coredns:v{COREDNS_VERSION}"
PAUSE_IMAGES = ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10.1")  # kind's sandbox, kubeadm's list
VELERO_IMAGE = f"velero/velero:v{VELERO_VERSION}"
# The dev stack's minioImage in the tests (quay.io/minio/minio cannot be pulled here).
MINIO_IMAGE = "brrtrouter.local/minio:built"
AWS_PLUGIN_IMAGE = f"velero/velero-plugin-for-aws:v{AWS_PLUGIN_VERSION}"
K8S = f"v{KUBERNETES_VERSION}"

# --- Debian bases: the kind node's (systemd, containerd) and kube-proxy's and kindnetd's ----------

NODE_PACKAGES = ("systemd", "systemd-sysv", "containerd", "runc", "conntrack", "iptables", "nftables", "iproute2",
                 "ethtool", "util-linux", "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates", "curl",
                 "jq", "procps", "containernetworking-plugins")
NET_PACKAGES = ("iptables", "nftables", "conntrack", "iproute2", "ca-certificates")
NODE_BASE = debian_image(f"brrtrouter.local/kind-node-base:{DEBIAN_SUITE}", NODE_PACKAGES)
NET_BASE = debian_image(f"brrtrouter.local/debian-net:{DEBIAN_SUITE}", NET_PACKAGES)

# --- what the node carries ------------------------------------------------------------------------

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
KUBERNETES = tool_named("kubernetes")
NODE_PRELOADED = (
    *(binary_image(f"registry.k8s.io/{command}:{K8S}", KUBERNETES, command)
      for command in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")),
    binary_image(f"registry.k8s.io/kube-proxy:{K8S}", KUBERNETES, "kube-proxy", base=NET_BASE),
    binary_image(ETCD_IMAGE, tool_named("etcd"), "etcd"),
    binary_image(COREDNS_IMAGE, tool_named("coredns"), "coredns", entrypoint=True),
    dockerfile_image(PAUSE_IMAGES, 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n', (tool_named("pause"),)),
    dockerfile_image((KINDNETD_IMAGE,), f'FROM {NET_BASE.reference}\nCOPY kindnetd /bin/kindnetd\nCMD ["/bin/kindnetd"]\n',
                     (tool_named("kindnetd"),), (NET_BASE,)),
    binary_image(LOCAL_PATH_PROVISIONER_IMAGE, tool_named("local-path-provisioner"), "local-path-provisioner",
                 entrypoint=True),
    dockerfile_image((LOCAL_PATH_HELPER_IMAGE,), "FROM scratch\n" + "\n".join(BUSYBOX_LINES) + "\n", busybox=True),
    dockerfile_image((VELERO_IMAGE,), VELERO_DOCKERFILE, (tool_named("velero"),), busybox=True),
    dockerfile_image((AWS_PLUGIN_IMAGE,), AWS_PLUGIN_DOCKERFILE, (tool_named("velero-plugin-for-aws"),)),
)
NODE = kind_node_image(KindNode(
    reference=KIND_NODE_IMAGE, kubernetes=KUBERNETES, kind=tool_named("kind"), kubernetes_version=KUBERNETES_VERSION,
    kind_version=KIND_VERSION, base=NODE_BASE, preloaded=NODE_PRELOADED,
    cni_images={"kindnetdImage": KINDNETD_IMAGE},
    storage_images={"storageProvisionerImage": LOCAL_PATH_PROVISIONER_IMAGE, "storageHelperImage": LOCAL_PATH_HELPER_IMAGE},
))

# --- beside the node ------------------------------------------------------------------------------

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
WORKLOAD_BASE = debian_image(f"brrtrouter.local/debian-workloads:{DEBIAN_SUITE}",
                             ("postgresql", "redis-server", "redis-tools", "procps"))
POSTGRES_VERSION = "15"  # Debian bookworm's; the seed's platform runs 16
POSTGRES_IMAGE = f"brrtrouter.local/postgres:{POSTGRES_VERSION}"
REDIS_IMAGE = "brrtrouter.local/redis:7"
WORKLOADS = PROJECT_DIR / "realtier" / "workloads"
POSTGRES_DOCKERFILE = f"""FROM {WORKLOAD_BASE.reference}
COPY postgres-entrypoint /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/{POSTGRES_VERSION}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data/pgdata
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
"""
REDIS_DOCKERFILE = f"""FROM {WORKLOAD_BASE.reference}
ENTRYPOINT ["redis-server"]
CMD ["--appendonly", "yes", "--dir", "/data", "--bind", "0.0.0.0", "--protected-mode", "no"]
"""

# In build order: an image's bases before it.
IMAGES: tuple[Image, ...] = (
    NODE_BASE,
    NET_BASE,
    *NODE_PRELOADED,
    NODE,
    dockerfile_image((MINIO_IMAGE,), MINIO_DOCKERFILE, (tool_named("minio"), tool_named("mc")), busybox=True),
    WORKLOAD_BASE,
    dockerfile_image((POSTGRES_IMAGE,), POSTGRES_DOCKERFILE, bases=(WORKLOAD_BASE,),
                     files=(WORKLOADS / "postgres-entrypoint",)),
    dockerfile_image((REDIS_IMAGE,), REDIS_DOCKERFILE, bases=(WORKLOAD_BASE,)),
)


def image_named(reference: str) -> Image:
    return next(image for image in IMAGES if reference in image.references)


def ensure_loaded(references: tuple[str, ...] | list[str]) -> None:
    """Load into the running daemon every image named that it lacks (the tests' daemon)."""
    for reference in references:
        load(image_named(reference))


def listing() -> list[tuple[str, Path]]:
    """(reference, tarball) of every image, built or not."""
    return [(reference, image.tarball()) for image in IMAGES for reference in image.references]
