"""The catalogue: services, backup hooks and schedules, as data in config/, not code.

Its rules are the lessons of the earlier build (DESIGN §3): a hook runs only on pods that are
in the backup, and file-system backup of volumes happens only when pods are in the backup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

from . import values
from .cron import CronError, parse_cron
from .problems import Problems

SERVICE_FIELDS = ("volumeSize", "component", "dataSize", "dailyChange")
PERCENT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)%$")
HOOK_FIELDS = ("service", "container", "phase", "command", "timeout", "onError")
SCHEDULE_FIELDS = ("cron", "ttl", "services", "resources", "clusterResources", "volumeData", "hooks", "paused")
HOOK_PHASES = ("pre", "post")
HOOK_ON_ERROR = ("Continue", "Fail")
# A Go duration as Velero's TTL takes it: 720h, 720h0m0s, 90m.
GO_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
# Kubernetes resource names as Velero's includedResources takes them (plural, optionally .group).
RESOURCE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# What a backup must contain for file-system backup of volumes and for exec hooks to happen.
POD_RESOURCES = {"pods", "pod", "po", "*"}


def keeps_pods(included_resources: Optional[Sequence[str]]) -> bool:
    """Whether a backup limited to these resources (none: all) still contains pods."""
    return not included_resources or any(resource in POD_RESOURCES for resource in included_resources)


@dataclass(frozen=True)
class Service:
    """A service of the platform, found by its pods' and PVCs' label app=<name>."""

    name: str
    volume_size: Optional[str]
    component: Optional[str]
    # For the backup plan: how much data it keeps (default: its volume size) and how much of
    # that changes per day.
    data_size: Optional[str] = None
    daily_change: float = 0.0


@dataclass(frozen=True)
class Hook:
    """A command Velero runs in a service's container before or after backing up its pod."""

    name: str
    service: str
    container: str
    phase: str
    command: tuple[str, ...]
    timeout: str
    on_error: str


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    ttl: str
    ttl_seconds: float
    longest_gap_minutes: Optional[int]
    services: tuple[str, ...]
    resources: tuple[str, ...]
    cluster_resources: Optional[bool]
    volume_data: bool
    hooks: tuple[str, ...]
    paused: bool


@dataclass(frozen=True)
class Catalogue:
    services: tuple[Service, ...]
    hooks: tuple[Hook, ...]
    schedules: tuple[Schedule, ...]


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses a mapping that names a key twice: YAML would silently keep the last one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def go_duration_seconds(text: str) -> float:
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text))


OVERRIDE_FIELDS = ("cron", "ttl", "paused")
_OVERRIDE = re.compile(r"^(?P<schedule>[a-z0-9-]+)\.(?P<field>[A-Za-z]+)=(?P<value>.+)$")


def parse_overrides(problems: Problems, key: str, entries: list[str]) -> dict[str, dict[str, Any]]:
    """Per-stack changes to catalogue schedules: 'schedule.field=value' (fields: cron, ttl, paused)."""
    overrides: dict[str, dict[str, Any]] = {}
    for entry in entries:
        found = _OVERRIDE.match(entry)
        if found is None or found["field"] not in OVERRIDE_FIELDS:
            problems.add(key, entry, f"'<schedule>.<{'|'.join(OVERRIDE_FIELDS)}>=<value>', e.g. 'brrtrouter-complete.ttl=2160h'")
            continue
        value: Any = found["value"]
        if found["field"] == "paused":
            if value not in ("true", "false"):
                problems.add(key, entry, "paused=true or paused=false")
                continue
            value = value == "true"
        fields = overrides.setdefault(found["schedule"], {})
        if found["field"] in fields:
            problems.add(key, entry, f"one override of {found['schedule']}.{found['field']}")
        fields[found["field"]] = value
    return overrides


def load_catalogue(
    problems: Problems,
    config_key: str,
    path: Path,
    overrides: Optional[dict[str, dict[str, Any]]] = None,
    overrides_key: str = "scheduleOverrides",
) -> Catalogue:
    """Read and check the catalogue file, with a stack's schedule overrides applied.

    Problems name the file and the path inside it (or the overrides key).
    """
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except OSError as error:
        problems.add(config_key, str(path), f"a readable catalogue file ({error.strerror})")
        return Catalogue((), (), ())
    except yaml.YAMLError as error:
        problems.add(config_key, str(path), f"a YAML file without duplicate keys ({error})")
        return Catalogue((), (), ())
    return parse_catalogue(problems, f"{config_key} ({path})", document, overrides, overrides_key)


def parse_catalogue(
    problems: Problems,
    where: str,
    document: Any,
    overrides: Optional[dict[str, dict[str, Any]]] = None,
    overrides_key: str = "scheduleOverrides",
    services_required: bool = True,
) -> Catalogue:
    """Check a catalogue document (the file's mapping, or a component's input); problems name
    `where` and the path inside it. services_required=False: one schedule of the whole namespace
    (the package's BackupSchedule), which names no service."""
    empty = Catalogue((), (), ())
    if not isinstance(document, dict):
        problems.add(where, document, "a mapping with the keys services, hooks and schedules")
        return empty
    for unknown in sorted(set(document) - {"services", "hooks", "schedules"}):
        problems.unknown(f"{where} {unknown}", document[unknown], ["services", "hooks", "schedules"])

    services = _section(problems, where, document, "services", _service, required=services_required)
    known_services = {service.name for service in services}
    hooks = _section(problems, where, document, "hooks", lambda *a: _hook(*a, known_services))
    known_hooks = {hook.name: hook for hook in hooks}
    _apply_overrides(problems, overrides_key, document, overrides or {})
    schedules = _section(
        problems, where, document, "schedules", lambda *a: _schedule(*a, known_services, known_hooks)
    )
    return Catalogue(services, hooks, schedules)


def _apply_overrides(problems: Problems, key: str, document: dict, overrides: dict[str, dict[str, Any]]) -> None:
    schedules = document.get("schedules")
    if not isinstance(schedules, dict):
        return
    for name, fields in overrides.items():
        if not isinstance(schedules.get(name), dict):
            problems.add(key, name, f"a schedule of the catalogue ({', '.join(sorted(schedules))})")
            continue
        schedules[name] = {**schedules[name], **fields}


def _section(problems: Problems, where: str, document: dict, section: str, parse, required: bool = False) -> tuple:
    entries = document.get(section)
    if entries is None and not required:
        return ()
    if not isinstance(entries, dict) or not entries:
        problems.add(f"{where} {section}", entries, f"a non-empty mapping of {section[:-1]} name to its settings")
        return ()
    parsed = []
    for name, fields in entries.items():
        at = f"{where} {section}.{name}"
        fields = {} if fields is None else fields
        if not isinstance(fields, dict):
            problems.add(at, fields, f"a mapping of {section[:-1]} settings")
            continue
        known = {"services": SERVICE_FIELDS, "hooks": HOOK_FIELDS, "schedules": SCHEDULE_FIELDS}[section]
        for unknown in sorted(set(fields) - set(known)):
            problems.unknown(f"{at}.{unknown}", fields[unknown], list(known))
        before = len(problems)
        if values.dns_label(problems, at, name) is None:
            continue
        item = parse(problems, at, name, fields)
        if item is not None and len(problems) == before:
            parsed.append(item)
    return tuple(parsed)


def _service(problems: Problems, at: str, name: str, fields: dict) -> Service:
    size = fields.get("volumeSize")
    if size is not None:
        size = values.binary_quantity(problems, f"{at}.volumeSize", size)
    component = fields.get("component")
    if component is not None:
        component = values.dns_label(problems, f"{at}.component", component)
    data_size = fields.get("dataSize", size)
    if data_size is not None and data_size is not size:
        data_size = values.binary_quantity(problems, f"{at}.dataSize", data_size)
    change = fields.get("dailyChange", "0%")
    found = PERCENT.match(change) if isinstance(change, str) else None
    if found is None or float(found[1]) > 100:
        problems.add(f"{at}.dailyChange", change, "a percentage of the data that changes per day, such as 20%")
        return Service(name, size, component, data_size)
    return Service(name, size, component, data_size, float(found[1]) / 100)


def _hook(problems: Problems, at: str, name: str, fields: dict, services: set[str]) -> Optional[Hook]:
    service = fields.get("service")
    if service not in services:
        problems.add(f"{at}.service", service, f"a service of the catalogue ({', '.join(sorted(services))})")
    container = fields.get("container")
    if not isinstance(container, str) or not values.DNS_LABEL.match(container):
        problems.add(f"{at}.container", container, "the name of the container to run the command in")
    phase = fields.get("phase")
    if phase not in HOOK_PHASES:
        problems.add(f"{at}.phase", phase, "pre (before the pod is backed up) or post (after)")
    command = fields.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(word, str) and word for word in command):
        problems.add(f"{at}.command", command, "a non-empty list of strings (the program and its arguments)")
    timeout = fields.get("timeout", "30s")
    if not isinstance(timeout, str) or not GO_DURATION.match(timeout):
        problems.add(f"{at}.timeout", timeout, "a Go duration such as 30s or 5m")
    on_error = fields.get("onError", "Fail")
    if on_error not in HOOK_ON_ERROR:
        problems.add(f"{at}.onError", on_error, "Continue or Fail")
    if not isinstance(command, list):
        return None
    return Hook(name, service, container, phase, tuple(command), timeout, on_error)


def _schedule(
    problems: Problems, at: str, name: str, fields: dict, services: set[str], hooks: dict[str, Hook]
) -> Optional[Schedule]:
    cron_text = fields.get("cron")
    gap = None
    try:
        gap = parse_cron(cron_text).longest_gap_minutes()
        if gap is None:
            problems.add(f"{at}.cron", cron_text, "a schedule that runs at least twice in four years")
    except CronError as error:
        problems.add(f"{at}.cron", cron_text, f"a five-field cron expression in UTC ({error})")
    ttl = fields.get("ttl")
    if not isinstance(ttl, str) or not GO_DURATION.match(ttl) or go_duration_seconds(ttl) <= 0:
        problems.add(f"{at}.ttl", ttl, "a positive Go duration such as 720h or 720h0m0s (not 30d)")

    scoped = _names(problems, f"{at}.services", fields.get("services", []), "a list of service names")
    for service in scoped:
        if service not in services:
            problems.add(f"{at}.services", service, f"a service of the catalogue ({', '.join(sorted(services))})")
    resources = _names(problems, f"{at}.resources", fields.get("resources", []), "a list of resource names")
    for resource in resources:
        if not RESOURCE_NAME.match(resource):
            problems.add(f"{at}.resources", resource, "a resource name such as pods or configmaps")
    flags = {}
    for flag, default in (("volumeData", True), ("paused", False), ("clusterResources", None)):
        value = fields.get(flag, default)
        if value is not None and not isinstance(value, bool):
            problems.add(f"{at}.{flag}", value, "true or false")
        flags[flag] = value
    hook_names = _names(problems, f"{at}.hooks", fields.get("hooks", []), "a list of hook names")
    for hook_name in hook_names:
        if hook_name not in hooks:
            problems.add(f"{at}.hooks", hook_name, f"a hook of the catalogue ({', '.join(sorted(hooks))})")
        elif scoped and hooks[hook_name].service not in scoped:
            # Velero runs a hook only on pods that are in the backup.
            problems.add(
                f"{at}.hooks", hook_name,
                f"a hook on a service this schedule backs up (its service {hooks[hook_name].service} "
                f"is not in services: {', '.join(scoped)})",
            )
    if not keeps_pods(resources) and (hook_names or flags["volumeData"]):
        # Hooks run, and volumes are copied by file-system backup, only for pods in the backup.
        problems.add(
            f"{at}.resources", list(resources),
            "pods among the resources: hooks and file-system backup of volumes happen only for pods "
            "in the backup (or volumeData: false and no hooks)",
        )
    if not isinstance(ttl, str) or not isinstance(cron_text, str):
        return None
    return Schedule(
        name=name,
        cron=cron_text,
        ttl=ttl,
        ttl_seconds=go_duration_seconds(ttl),
        longest_gap_minutes=gap,
        services=tuple(scoped),
        resources=tuple(resources),
        cluster_resources=flags["clusterResources"],
        volume_data=bool(flags["volumeData"]),
        hooks=tuple(hook_names),
        paused=bool(flags["paused"]),
    )


def _names(problems: Problems, key: str, value: Any, expected: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if len(set(value)) != len(value):
            problems.add(key, value, f"{expected}, each named once")
        return list(value)
    problems.add(key, value, expected)
    return []
