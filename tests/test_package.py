"""The package (pyproject.toml): what its wheel holds and what it exports. The wheel installed into a
fresh virtualenv and used by a program on the real engine: tests/real/test_package.py."""

from __future__ import annotations

import inspect
import subprocess
import sys
import zipfile

import pulumi
import pytest

import velero_pulumi
from velero_pulumi import components

from .harness import PROJECT_DIR, package_wheel


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> list[str]:
    with zipfile.ZipFile(package_wheel(tmp_path_factory.mktemp("wheel"))) as archive:
        return archive.namelist()


def test_the_wheel_holds_every_module_of_the_package_and_nothing_of_the_project(wheel_files):
    modules = sorted(str(path.relative_to(PROJECT_DIR)) for path in (PROJECT_DIR / "velero_pulumi").rglob("*.py"))
    assert sorted(name for name in wheel_files if name.endswith(".py")) == modules
    assert not [name for name in wheel_files if name.startswith(("tests/", "scripts/", "program", "realtier/", "policy/"))]
    metadata = next(name for name in wheel_files if name.endswith(".dist-info/METADATA"))
    assert metadata.startswith("velero_pulumi-")


def test_every_component_is_exported_with_its_args():
    classes = {name for name, value in inspect.getmembers(components, inspect.isclass)
               if issubclass(value, pulumi.ComponentResource)}
    assert classes and classes <= set(velero_pulumi.__all__)
    assert {f"{name}Args" for name in classes} <= set(velero_pulumi.__all__)
    assert all(getattr(velero_pulumi, name) is getattr(components, name) for name in velero_pulumi.__all__)


def test_the_settings_import_without_the_providers_sdks_as_the_policy_pack_does():
    """The policy pack's virtualenv has pulumi-policy, not the providers' SDKs: importing the
    settings must not load the components."""
    script = ("import sys\nfor sdk in ('pulumi_kubernetes', 'pulumi_docker', 'pulumi_command', 'pulumi_random'):\n"
              "    sys.modules[sdk] = None  # import fails, as where it is not installed\n"
              "from velero_pulumi.config.catalogue import GO_DURATION, go_duration_seconds, keeps_pods\n"
              "from velero_pulumi.config.versions import PLUGIN_MINOR_FOR_VELERO, split_image\n"
              "assert 'velero_pulumi.components' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
