"""Pulumi entry point: settings (validated before anything is registered) -> components -> exports."""

import pulumi

from velero_pulumi.config import load_settings_from_pulumi
from program import build_environment

settings = load_settings_from_pulumi()
for output_name, value in build_environment(settings).items():
    pulumi.export(output_name, value)
