"""Typed, validated settings of the stack and the catalogue of services, hooks and schedules."""

from .catalogue import Catalogue, Hook, Schedule, Service
from .problems import ConfigError
from .backends import AwsSettings, AzureSettings, BackendSettings, GcpSettings
from .reader import KEYS
from .settings import (
    DataVolume,
    ExistingClusterSettings,
    KindSettings,
    MinioSettings,
    NodeAgentSettings,
    Settings,
    VeleroSettings,
    load_settings,
    load_settings_from_pulumi,
)
from .values import PortMapping

__all__ = [
    "KEYS",
    "AwsSettings",
    "AzureSettings",
    "BackendSettings",
    "ExistingClusterSettings",
    "GcpSettings",
    "Catalogue",
    "ConfigError",
    "DataVolume",
    "Hook",
    "KindSettings",
    "MinioSettings",
    "NodeAgentSettings",
    "PortMapping",
    "Schedule",
    "Service",
    "Settings",
    "VeleroSettings",
    "load_settings",
    "load_settings_from_pulumi",
]
