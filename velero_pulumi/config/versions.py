"""Velero's version rules: which plugin goes with which server, and known-bad releases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# Velero's compatibility matrix: server minor -> the plugin minor built against it
# (velero-plugin-for-aws, -gcp and -microsoft-azure share the numbering).
PLUGIN_MINOR_FOR_VELERO = {"1.18": "1.14", "1.17": "1.13", "1.16": "1.12"}
# velero-plugin-for-aws releases that mishandle `checksumAlgorithm: ""` on S3-compatible stores.
AWS_PLUGIN_BAD_ON_S3_COMPATIBLE = {"1.14.1", "1.14.2"}

_SEMVER_TAG = re.compile(r"^v(?P<minor>[0-9]+\.[0-9]+)\.[0-9]+$")


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: Optional[str]
    digest: Optional[str]

    @property
    def version(self) -> Optional[str]:
        """x.y.z of a vX.Y.Z tag."""
        return self.tag[1:] if self.tag and _SEMVER_TAG.match(self.tag) else None

    @property
    def minor(self) -> Optional[str]:
        found = _SEMVER_TAG.match(self.tag or "")
        return found["minor"] if found else None


def split_image(reference: str) -> ImageRef:
    """registry/path:tag@sha256:digest -> its parts (reference already checked by values.image_reference)."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    if ":" in name[slash + 1:]:
        repository, _, tag = name.rpartition(":")
    else:
        repository, tag = name, ""
    return ImageRef(repository=repository, tag=tag or None, digest=digest or None)
