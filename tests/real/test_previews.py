"""Real `pulumi preview` of every stack file, on the engine built here.

dev against a real Docker daemon with the chart from a Helm repository (the official package,
served over https on 127.0.0.1); each production stack against the local API server, answering
to the context its stack file names, with the chart from the local copy.
"""

from __future__ import annotations

import pytest

from realtier.run.engine import diagnostics, steps

from ..stacks import run_stack
from .stacks import LOCAL_CHART, PRODUCTION_STACKS, init_committed_stack, type_and_name

PROJECT = "brrtrouter-backup"


def planned(preview) -> set[tuple[str, str]]:
    """(type, name) of every resource the preview would create, the engine's own default providers aside."""
    return {
        type_and_name(step["urn"])
        for step in steps(preview)
        if step["op"] == "create" and not (type_and_name(step["urn"])[0].startswith("pulumi:providers:")
                                           and type_and_name(step["urn"])[1].startswith("default"))
        and type_and_name(step["urn"])[0] != "pulumi:pulumi:Stack"
    }


def problems_of(preview) -> list[str]:
    return [f"{d.get('severity')}: {d.get('message', '').strip()}" for d in diagnostics(preview)]


def test_dev_preview_plans_what_the_mocks_predict_with_no_error_or_warning(engine, docker, chart_repository):
    engine.env.update(chart_repository.environment())
    init_committed_stack(engine, "dev", {"veleroChart": chart_repository.url})
    preview = engine.preview("dev")
    assert problems_of(preview) == []
    predicted = {(r.type, r.name) for r in run_stack("dev").registrations}
    assert planned(preview) == predicted
    assert len(predicted) > 60
    # The program asked the repository for its index before registering anything.
    assert "/charts/index.yaml" in chart_repository.requests


@pytest.mark.parametrize("stack", PRODUCTION_STACKS)
def test_production_preview_shows_every_chart_object_on_its_own_line(engine, production_kubeconfig, stack):
    engine.env["KUBECONFIG"] = str(production_kubeconfig)
    init_committed_stack(engine, stack, {"veleroChart": LOCAL_CHART})
    preview = engine.preview(stack)
    assert problems_of(preview) == []
    plan = planned(preview)
    chart_objects = {name for type_, name in plan if type_.startswith("kubernetes:") and name.startswith("velero-chart:")}
    crds = {f"velero-chart:{name}" for name in (
        "backups.velero.io", "restores.velero.io", "schedules.velero.io", "backupstoragelocations.velero.io",
        "podvolumebackups.velero.io", "backuprepositories.velero.io")}
    assert crds <= chart_objects
    assert {"velero-chart:velero/velero", "velero-chart:velero/node-agent"} <= chart_objects
    # The program's own objects beside the chart's.
    assert ("kubernetes:velero.io/v1:BackupStorageLocation", "backup-location-default") in plan
    assert len([t for t, _ in plan if t == "kubernetes:velero.io/v1:Schedule"]) == 12
