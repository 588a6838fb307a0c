"""Checks for single configuration values.

Each check takes the problems collector, the key to name in an error and the raw value; it
returns the parsed value, or None after recording what was expected.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Optional

from .problems import Problems

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Kubernetes quantities with a binary suffix: the unit PVs, PVCs and budgets are written in.
BINARY_QUANTITY = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti)$")
CPU_QUANTITY = re.compile(r"^([1-9][0-9]*m|[1-9][0-9]*(\.[0-9]{1,3})?|0\.[0-9]{1,3})$")
# S3 bucket names: 3-63 chars, lower case, digits, dots and hyphens, letter or digit at the ends.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
# An image reference as Docker parses it: [registry[:port]/]path[:tag][@sha256:digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)"
IMAGE_REFERENCE = re.compile(
    rf"^{_REGISTRY}?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
ACCESS_KEY = re.compile(r"^[A-Za-z0-9_.-]{3,128}$")


def dns_label(problems: Problems, key: str, value: Any) -> Optional[str]:
    if isinstance(value, str) and DNS_LABEL.match(value):
        return value
    problems.add(key, value, "a non-empty lower-case DNS label (a-z, 0-9, '-', at most 63 chars)")
    return None


def port(problems: Problems, key: str, value: Any) -> Optional[int]:
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isdigit():
        number = int(value)
    if number is not None and 1 <= number <= 65535:
        return number
    problems.add(key, value, "a TCP/UDP port number between 1 and 65535")
    return None


def integer_between(problems: Problems, key: str, value: Any, low: int, high: int, meaning: str) -> Optional[int]:
    """An integer key (the CLI hands it over as text) from low to high; `meaning` says what it counts."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isdigit():
        number = int(value)
    if number is not None and low <= number <= high:
        return number
    problems.add(key, value, f"a whole number from {low} to {high} ({meaning})")
    return None


def optional_quantity(problems: Problems, key: str, value: Any, pattern: re.Pattern[str], example: str) -> Optional[str]:
    """Empty (None), or a Kubernetes quantity that matches `pattern`."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and pattern.match(value):
        return value
    problems.add(key, value, f"empty, or a quantity such as {example}")
    return None


def binary_quantity(problems: Problems, key: str, value: Any) -> Optional[str]:
    if isinstance(value, str) and BINARY_QUANTITY.match(value):
        return value
    problems.add(key, value, "a size with a binary unit such as 512Mi, 5Gi or 1Ti (not 5GB or 5G)")
    return None


def image_reference(problems: Problems, key: str, value: Any) -> Optional[str]:
    if isinstance(value, str) and IMAGE_REFERENCE.match(value) and _has_tag_or_digest(value):
        return value
    problems.add(
        key, value, "an image reference pinned by tag or digest, e.g. registry/name:tag[@sha256:<64 hex>]"
    )
    return None


def _has_tag_or_digest(reference: str) -> bool:
    last_component = reference.rsplit("/", 1)[-1]
    return ":" in last_component or "@sha256:" in reference


# A Kubernetes label: [prefix/]name, name up to 63 of [A-Za-z0-9_.-], value likewise (may be empty).
LABEL_PAIR = re.compile(
    r"^(?P<key>([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)"
    r"=(?P<value>([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?)$"
)


def label_pair(problems: Problems, key: str, value: Any) -> Optional[tuple[str, str]]:
    found = LABEL_PAIR.match(value) if isinstance(value, str) else None
    if found is None:
        problems.add(key, value, "a Kubernetes label as key=value, e.g. grafana_dashboard=1")
        return None
    return found["key"], found["value"]


def ipv4_address(problems: Problems, key: str, value: Any) -> Optional[str]:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ValueError, TypeError):
        problems.add(key, value, "an IPv4 address such as 127.0.0.1 or 0.0.0.0")
        return None


def matching(problems: Problems, key: str, value: Any, pattern: re.Pattern[str], expected: str) -> Optional[str]:
    if isinstance(value, str) and pattern.match(value):
        return value
    problems.add(key, value, expected)
    return None


@dataclass(frozen=True)
class PortMapping:
    """A port of the KIND node published on the host."""

    listen_address: str
    host_port: int
    container_port: int
    protocol: str


_PORT_MAPPING = re.compile(
    r"^(?:(?P<address>[0-9.]+):)?(?P<host>[0-9]+):(?P<container>[0-9]+)(?:/(?P<protocol>tcp|udp|sctp))?$"
)
PORT_MAPPING_FORMAT = "'[listenAddress:]hostPort:containerPort[/tcp|udp|sctp]', e.g. '8080:30080'"


def port_mapping(problems: Problems, key: str, value: Any) -> Optional[PortMapping]:
    found = _PORT_MAPPING.match(value) if isinstance(value, str) else None
    if found is None:
        problems.add(key, value, PORT_MAPPING_FORMAT)
        return None
    address = ipv4_address(problems, key, found["address"] or "127.0.0.1")
    host = port(problems, key, found["host"])
    container = port(problems, key, found["container"])
    if address is None or host is None or container is None:
        return None
    return PortMapping(address, host, container, (found["protocol"] or "tcp").upper())
