"""Typed, validated settings of the stack and the service catalogue."""

from .catalogue import Service
from .problems import ConfigError
from .settings import KEYS, DataVolume, KindSettings, MinioSettings, Settings, load_settings, load_settings_from_pulumi
from .values import PortMapping

__all__ = [
    "KEYS",
    "ConfigError",
    "DataVolume",
    "KindSettings",
    "MinioSettings",
    "PortMapping",
    "Service",
    "Settings",
    "load_settings",
    "load_settings_from_pulumi",
]
