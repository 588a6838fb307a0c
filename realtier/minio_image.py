"""A MinIO image built here, with no pull: FROM scratch, Debian's static busybox for the shell the
MinioServer component's set-up script runs in, and the static minio and mc built by
scripts/engine. The dev stack's tests use it through the stack's own minioImage config."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from . import toolchain

BUSYBOX = Path("/bin/busybox")
DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/root", "/usr/bin", "/data"]
COPY minio mc /usr/bin/
ENV PATH=/usr/bin:/bin HOME=/root
ENTRYPOINT ["/usr/bin/minio"]
"""


class ImageUnavailable(Exception):
    pass


def build(tag: str) -> str:
    """Build the image as `tag` with the local Docker daemon; returns the tag."""
    if not BUSYBOX.is_file():
        raise ImageUnavailable(f"{BUSYBOX} is missing: Debian's busybox-static gives the image its shell "
                               "(./scripts/test installs it when run as root)")
    binaries = toolchain.locate(("minio", "mc"))
    with tempfile.TemporaryDirectory(prefix="brrtrouter-minio-image-") as folder:
        context = Path(folder)
        (context / "Dockerfile").write_text(DOCKERFILE)
        shutil.copy2(BUSYBOX, context / "busybox")
        for name in ("minio", "mc"):
            shutil.copy2(binaries[name], context / name)
        result = subprocess.run(["docker", "build", "--quiet", "--tag", tag, str(context)], capture_output=True,
                                text=True, timeout=600)
    if result.returncode != 0:
        raise ImageUnavailable(f"docker build of {tag} failed: {result.stderr.strip()[-1000:]}")
    return tag


def remove(tag: str) -> None:
    subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, timeout=120)
