"""Typed, validated settings of the stack and the catalogue of services, hooks and schedules."""

from .catalogue import Catalogue, Hook, Schedule, Service
from .problems import ConfigError
from .settings import (
    KEYS,
    DataVolume,
    KindSettings,
    MinioSettings,
    Settings,
    VeleroSettings,
    load_settings,
    load_settings_from_pulumi,
)
from .values import PortMapping

__all__ = [
    "KEYS",
    "Catalogue",
    "ConfigError",
    "DataVolume",
    "Hook",
    "KindSettings",
    "MinioSettings",
    "PortMapping",
    "Schedule",
    "Service",
    "Settings",
    "VeleroSettings",
    "load_settings",
    "load_settings_from_pulumi",
]
