"""DataVolumes: one retained Docker volume per service with data."""

from __future__ import annotations

from velero_pulumi.components import DataVolumes, DataVolumesArgs
from velero_pulumi.config import DataVolume

from .harness import resolve, run

VOLUMES = (
    DataVolume("prometheus", "brrtrouter-prometheus-data", "5Gi", "/mnt/prometheus-data", "prometheus-storage", None),
    DataVolume("grafana", "brrtrouter-grafana-data", "1Gi", "/mnt/grafana-data", "grafana-storage", None),
)
VOLUME = "docker:index/volume:Volume"


def build():
    built = {}

    def program():
        built["component"] = DataVolumes("data", DataVolumesArgs(volumes=VOLUMES, labels={"team": "platform"}))

    return run(program), built["component"]


def test_one_named_volume_per_service():
    result, _ = build()
    volumes = result.of_type(VOLUME)
    assert sorted(v.values["name"] for v in volumes) == ["brrtrouter-grafana-data", "brrtrouter-prometheus-data"]
    assert all(v.values["driver"] == "local" for v in volumes)


def test_volumes_are_retained_on_destroy_and_not_protected():
    result, _ = build()
    volumes = result.of_type(VOLUME)
    assert volumes and all(v.retain_on_delete for v in volumes)
    # The label says so to policies, which cannot see resource options.
    assert all({"label": "brrtrouter.io/retain-on-delete", "value": "true"} in v.values["labels"] for v in volumes)
    # Retained, not protected: `pulumi destroy` succeeds and leaves the data in place.
    assert not any(v.protect for v in volumes)


def test_volumes_are_children_of_the_component():
    result, _ = build()
    component = result.one("brrtrouter:backup:DataVolumes")
    assert all(v.parent == component.urn for v in result.of_type(VOLUME))
    assert result.one(VOLUME, "data-prometheus").urn.endswith(
        "::brrtrouter:backup:DataVolumes$docker:index/volume:Volume::data-prometheus"
    )


def test_labels_carry_the_size_budget_and_node_path():
    result, _ = build()
    labels = {item["label"]: item["value"] for item in result.one(VOLUME, "data-prometheus").values["labels"]}
    assert labels == {
        "team": "platform",
        "app.kubernetes.io/name": "prometheus",
        "brrtrouter.io/size-budget": "5Gi",
        "brrtrouter.io/node-path": "/mnt/prometheus-data",
        "brrtrouter.io/retain-on-delete": "true",
    }


def test_outputs_are_the_names_and_mountpoints_per_service():
    _, component = build()
    assert resolve(component.names) == {
        "prometheus": "brrtrouter-prometheus-data",
        "grafana": "brrtrouter-grafana-data",
    }
    assert resolve(component.mountpoints)["grafana"] == "/var/lib/docker/volumes/brrtrouter-grafana-data/_data"
