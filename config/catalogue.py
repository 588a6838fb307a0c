"""The service catalogue: which services keep data, as data in config/, not code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from . import values
from .problems import Problems

SERVICE_FIELDS = {"volumeSize"}


@dataclass(frozen=True)
class Service:
    """One service of the catalogue. A service with a volume size keeps its data in a volume."""

    name: str
    volume_size: Optional[str]


def load_catalogue(problems: Problems, config_key: str, path: Path) -> tuple[Service, ...]:
    """Read and check the catalogue file; problems name the file and the path inside it."""
    where = f"{config_key} ({path})"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        problems.add(config_key, str(path), f"a readable catalogue file ({error.strerror})")
        return ()
    except yaml.YAMLError as error:
        problems.add(config_key, str(path), f"a YAML file ({error})")
        return ()
    if not isinstance(document, dict):
        problems.add(where, document, "a mapping with the key 'services'")
        return ()
    for unknown in sorted(set(document) - {"services"}):
        problems.unknown(f"{where} {unknown}", document[unknown], ["services"])
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        problems.add(f"{where} services", services, "a non-empty mapping of service name to its settings")
        return ()
    return tuple(
        service
        for name, fields in services.items()
        if (service := _service(problems, f"{where} services.{name}", name, fields)) is not None
    )


def _service(problems: Problems, where: str, name: Any, fields: Any) -> Optional[Service]:
    checked_name = values.dns_label(problems, where, name)
    fields = {} if fields is None else fields
    if not isinstance(fields, dict):
        problems.add(where, fields, "a mapping of service settings (known: volumeSize)")
        return None
    for unknown in sorted(set(fields) - SERVICE_FIELDS):
        problems.unknown(f"{where}.{unknown}", fields[unknown], sorted(SERVICE_FIELDS))
    size = fields.get("volumeSize")
    if size is not None:
        size = values.binary_quantity(problems, f"{where}.volumeSize", size)
        if size is None:
            return None
    return None if checked_name is None else Service(checked_name, size)
