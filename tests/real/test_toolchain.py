"""scripts/engine on this machine: a second build changes nothing, fast; a refused module is named."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from realtier.build import cache, gobuild, images, tools

from ..harness import PROJECT_DIR


def test_a_second_build_changes_nothing_in_under_two_seconds():
    tools = cache.cache_root() / "tools"
    before = {path.name: path.stat().st_mtime_ns for path in tools.iterdir()}
    started = time.monotonic()
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), "build"], capture_output=True, text=True,
                            env={**os.environ, "PYTHON": sys.executable}, timeout=60)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "(nothing to build)" in result.stdout
    assert seconds < 2, seconds
    assert {path.name: path.stat().st_mtime_ns for path in tools.iterdir()} == before


def test_check_finds_every_tool():
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), "--check"], capture_output=True, text=True,
                            env={**os.environ, "PYTHON": sys.executable}, timeout=60)
    assert result.returncode == 0, result.stdout
    assert f"{len(tools.TOOLS) + len(images.IMAGES)} present, 0 missing" in result.stdout


def test_the_node_carries_every_image_the_built_kubeadm_asks_for():
    kubeadm = tools.locate(("kubeadm",))["kubeadm"]
    listed = subprocess.run([str(kubeadm), "config", "images", "list", "--kubernetes-version",
                             f"v{tools.KUBERNETES_VERSION}"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    wanted = set(listed.stdout.split())
    carried = {reference for image in images.NODE_PRELOADED for reference in image.references}
    assert wanted and wanted <= carried, wanted - carried


def test_path_lists_every_binary_and_image_tarball():
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), "path"], capture_output=True, text=True,
                            env={**os.environ, "PYTHON": sys.executable}, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = dict(line.split("\t") for line in result.stdout.splitlines())
    for image in images.IMAGES:
        for reference in image.references:
            assert listed[reference] == str(image.tarball()) and image.tarball().is_file()


def test_a_module_the_proxy_refuses_stops_the_build_naming_it(tmp_path, monkeypatch):
    # v1.14.4 of the AWS plugin is refused by the module proxy here (RECIPE.md): a real refusal.
    monkeypatch.setenv("BRRTROUTER_TOOLS_CACHE", str(tmp_path))
    refused = "github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws@v1.14.4"
    tool = gobuild.Tool("refused-plugin", "1.14.4", ("velero-plugin-for-aws",), gobuild.go_install(refused),
                          f"go install {refused}")
    try:
        gobuild.build_tool(tool, 1, 1)
    except cache.ToolchainError as error:
        assert f"refused-plugin: the Go module proxy refuses {refused}" in str(error)
    else:
        raise AssertionError("the build of a refused module succeeded")
    assert not tool.entry().exists()
