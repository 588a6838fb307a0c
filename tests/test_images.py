"""The real tier's image catalogue (realtier/images.py): names, keys, kind's manifests, the listing."""

from __future__ import annotations

import yaml

from realtier.build import cache, gobuild, images, imaging, tools

from .harness import PROJECT_DIR

KUBEADM_IMAGES = {  # `kubeadm config images list --kubernetes-version v1.34.4` (checked for real in tests/real)
    "registry.k8s.io/kube-apiserver:v1.34.4", "registry.k8s.io/kube-controller-manager:v1.34.4",
    "registry.k8s.io/kube-scheduler:v1.34.4", "registry.k8s.io/kube-proxy:v1.34.4",
    "registry.k8s.io/coredns/coredns:v1.12.1", "registry.k8s.io/pause:3.10.1", "registry.k8s.io/etcd:3.6.5-0",
}


def references(catalogue) -> set[str]:
    return {reference for image in catalogue for reference in image.references}


def test_the_node_carries_every_image_kubeadm_kind_and_the_dev_stack_ask_for():
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    wanted = KUBEADM_IMAGES | {
        "registry.k8s.io/pause:3.10",  # the sandbox image of kind's containerd config
        "docker.io/kindest/kindnetd:v20250512-df8de77b", "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
        "docker.io/kindest/local-path-helper:v20241212-8ac705d0",
        project["veleroImage"]["default"], project["veleroAwsPluginImage"]["default"],
    }
    assert references(images.NODE_PRELOADED) == wanted


def test_image_keys_follow_the_tools_and_bases_they_are_made_of():
    tool = tools.tool_named("velero")
    changed = gobuild.Tool(tool.name, tool.version + "-changed", tool.binaries, tool.build, tool.recipe)
    velero = imaging.dockerfile_image(("velero/velero:test",), images.VELERO_DOCKERFILE, (tool,), busybox=True)
    rebuilt = imaging.dockerfile_image(("velero/velero:test",), images.VELERO_DOCKERFILE, (changed,), busybox=True)
    assert velero.key() == imaging.dockerfile_image(("velero/velero:test",), images.VELERO_DOCKERFILE, (tool,),
                                                    busybox=True).key()
    assert rebuilt.key() != velero.key()
    carrier = imaging.dockerfile_image(("carrier:test",), "FROM scratch\n", bases=(velero,))
    assert imaging.dockerfile_image(("carrier:test",), "FROM scratch\n", bases=(rebuilt,)).key() != carrier.key()


def test_the_node_carries_the_velero_image_it_is_keyed_by():
    assert images.image_named(images.VELERO_IMAGE) in images.NODE.bases


def test_tarballs_live_in_the_tools_cache_under_their_key(monkeypatch, tmp_path):
    monkeypatch.setenv("BRRTROUTER_TOOLS_CACHE", str(tmp_path))
    node = images.image_named(images.KIND_NODE_IMAGE)
    assert node.tarball() == tmp_path / "images" / f"kind-node-v1.34.4-{node.key()}.tar"
    assert not node.built()


def test_kind_manifests_are_read_from_its_go_constants(tmp_path):
    source = tmp_path / "const_cni.go"
    source.write_text('package nodeimage\n\nconst kindnetdImage = "x"\n\nconst defaultCNIManifest = `\n'
                      'kind: DaemonSet\nimage: ` + kindnetdImage + `\n`\n')
    text = imaging.kind_manifest(source, "defaultCNIManifest", {"kindnetdImage": "docker.io/kindest/kindnetd:v1"})
    assert yaml.safe_load(text) == {"kind": "DaemonSet", "image": "docker.io/kindest/kindnetd:v1"}


def test_a_kind_manifest_naming_an_unknown_constant_is_an_error(tmp_path):
    source = tmp_path / "const_storage.go"
    source.write_text("const defaultStorageManifest = `\nimage: ` + somethingNew + `\n`\n")
    try:
        imaging.kind_manifest(source, "defaultStorageManifest", {})
    except cache.ToolchainError as error:
        assert "refers to a constant this build does not know" in str(error)
    else:
        raise AssertionError("an unknown constant went through")


def test_references_are_named_as_containerd_names_them():
    assert imaging.normalized("velero/velero:v1.18.1") == "docker.io/velero/velero:v1.18.1"
    assert imaging.normalized("registry.k8s.io/pause:3.10") == "registry.k8s.io/pause:3.10"
    assert imaging.normalized("busybox:1") == "docker.io/library/busybox:1"


def test_path_lists_each_image_as_reference_tab_tarball():
    listed = dict(images.listing())
    assert listed["registry.k8s.io/pause:3.10"] == listed["registry.k8s.io/pause:3.10.1"]
    assert listed[images.KIND_NODE_IMAGE].name.startswith("kind-node-v1.34.4-")
