"""scripts/engine: what it builds, where it keeps it, and how it says what is wrong.

The builds themselves run in the real tier (tests/real/test_toolchain.py); these tests need no
network and no Go build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from realtier.build import cache, gobuild, images, tools

from .harness import PROJECT_DIR

REFUSAL = """go: github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws@v1.14.4: github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws@v1.14.4: reading https://proxy.golang.org/github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws/@v/v1.14.4.info: 403 Forbidden
	server response: This module version is not available.
"""


# The machine's Go, and nothing of Pulumi's.
SYSTEM_PATH = os.pathsep.join([str(Path(shutil.which("go") or "/usr/local/go/bin/go").parent), "/usr/bin", "/bin"])


@pytest.fixture
def empty_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BRRTROUTER_TOOLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PATH", SYSTEM_PATH)  # no pulumi of the machine's

    return tmp_path / "cache"


def engine(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable, **env}, timeout=60)


def test_every_tool_the_real_tier_needs_is_pinned():
    binaries = {name for tool in tools.TOOLS for name in tool.binaries}
    assert {"pulumi", "pulumi-language-python", "pulumi-language-python-exec", "pulumi-language-nodejs",
            "pulumi-language-yaml", "pulumi-resource-kubernetes",
            "pulumi-resource-random", "pulumi-resource-command", "pulumi-resource-docker", "etcd", "kube-apiserver",
            "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet", "kubeadm", "kube-proxy", "kwok", "minio",
            "mc", "velero", "velero-restore-helper", "velero-helper", "velero-plugin-for-aws", "cp-plugin", "kind",
            "kindnetd", "coredns", "local-path-provisioner", "helm", "pause", "runc-bounded"} == binaries


def test_providers_are_the_versions_the_python_sdks_ask_for():
    pins = dict(line.split("==") for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["pulumi-kubernetes"] == tools.KUBERNETES_PROVIDER_VERSION
    assert pins["pulumi-random"] == tools.RANDOM_PROVIDER_STAMP
    assert pins["pulumi-command"] == tools.COMMAND_PROVIDER_STAMP
    assert pins["pulumi-docker"] == tools.DOCKER_PROVIDER_STAMP


def test_velero_is_the_release_the_program_installs():
    import yaml

    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    assert project["veleroImage"]["default"] == f"velero/velero:v{tools.VELERO_VERSION}"
    assert project["veleroAwsPluginImage"]["default"] == f"velero/velero-plugin-for-aws:v{tools.AWS_PLUGIN_VERSION}"


def test_cache_keys_are_stable_and_change_with_the_pins():
    tool = next(t for t in tools.TOOLS if t.name == "velero")
    assert tool.key() == tool.key()
    changed = gobuild.Tool(tool.name, tool.version, tool.binaries, tool.build, tool.recipe + "\n// another pin")
    assert changed.key() != tool.key()
    assert tool.entry().parent == cache.cache_root() / "tools"


def test_a_refused_module_is_named():
    assert gobuild.proxy_refusal(REFUSAL) == (
        "the Go module proxy refuses github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws@v1.14.4 "
        "(answer: 403, not available)")
    assert gobuild.proxy_refusal("go: build failed: undefined: foo") is None


def test_check_lists_what_is_missing(empty_cache):
    result = engine("--check", env={})
    assert result.returncode == 1
    assert "missing   pulumi " in result.stdout and "missing   velero-plugin-for-aws" in result.stdout
    assert "missing   image" in result.stdout and "brrtrouter.local/kind-node:v1.34.4" in result.stdout
    total = len(tools.TOOLS) + len(images.IMAGES)
    assert f"0 present, {total} missing; run scripts/engine build" in result.stdout


def test_no_go_is_a_clear_error(empty_cache, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = engine("build", "kind", env={"PATH": str(bin_dir)})
    assert result.returncode == 1
    assert "error: go not found: the real tier builds its tools with Go" in result.stderr


def test_no_shared_folder_is_a_clear_error(empty_cache, tmp_path):
    result = engine("build", "kind", env={"BRRTROUTER_SHARED_DIR": str(tmp_path / "nowhere")})
    assert result.returncode == 1
    assert "engine-src is missing: ../shared (with engine-src/ and charts/) must sit beside the project" in result.stderr


def test_too_little_disk_is_a_clear_error(empty_cache, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(gobuild.shutil, "disk_usage", lambda path: usage(100, 99, 3 * 1024**3))
    with pytest.raises(cache.ToolchainError, match=r"too little disk for the build: 3.0 GB free at .* about 20 GB needed"):
        gobuild.check_prerequisites(list(tools.TOOLS))


def test_an_unknown_tool_name_is_refused(empty_cache):
    result = engine("build", "terraform", env={})
    assert result.returncode == 1 and "unknown tool(s) terraform; known: pulumi" in result.stderr


def stand_in_pulumi(folder: Path, version: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pulumi").write_text(f"#!/bin/sh\necho v{version}\n")
    for name in ("pulumi", "pulumi-language-python", "pulumi-language-python-exec"):
        path = folder / name
        if not path.exists():
            path.write_text("#!/bin/sh\n")
        path.chmod(0o755)


def test_an_installed_pulumi_and_providers_are_used_instead_of_building(empty_cache, tmp_path, monkeypatch):
    stand_in_pulumi(tmp_path / "pulumi-install", "3.280.0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'pulumi-install'}:{SYSTEM_PATH}")
    plugin = tmp_path / "pulumi-home" / "plugins" / f"resource-kubernetes-v{tools.KUBERNETES_PROVIDER_VERSION}" / "pulumi-resource-kubernetes"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    states = {tool.name: gobuild.status_of(tool) for tool in tools.TOOLS}
    assert states["pulumi"].origin == "installed"
    assert states["pulumi"].paths["pulumi"] == tmp_path / "pulumi-install" / "pulumi"
    assert states["pulumi-resource-kubernetes"].origin == "installed"
    assert states["pulumi-resource-docker"].origin == "missing"  # built: only what is missing


def test_an_installed_pulumi_older_than_the_sdk_is_not_used(empty_cache, tmp_path, monkeypatch):
    stand_in_pulumi(tmp_path / "old-pulumi", "3.200.0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'old-pulumi'}:{SYSTEM_PATH}")
    assert gobuild.status_of(tools.TOOLS[0]).origin == "missing"
