"""Every production stack file deploys onto an empty cluster (the recover-from-scratch case):
`pulumi up` as committed, with only the chart from the local copy and a kubeconfig that answers
to the stack's context; then a no-op preview, then `pulumi destroy`, which keeps the application's
namespace, Velero's namespace and its CRDs; then a second up that adopts them, and a destroy again. A cluster without the operator's CRDs stops the program with one sentence."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from realtier.run.engine import Engine, EngineError
from realtier.run.localstack import LocalStack

from ..cli_config import stack_file
from . import kube
from .stacks import LOCAL_CHART, PRODUCTION_STACKS, init_committed_stack, write_production_kubeconfig

KEY = "brrtrouter-backup:"


@pytest.fixture
def empty_cluster(tmp_path):
    with LocalStack.start(tmp_path / "cluster") as cluster:
        yield cluster


def production_engine(engine, cluster, stack):
    engine.env["KUBECONFIG"] = str(write_production_kubeconfig(cluster))
    # kwok runs no Velero to find the location Available: the user's way to not wait for it.
    init_committed_stack(engine, stack, {"veleroChart": LOCAL_CHART, "locationAvailableTimeout": "0"})
    return engine


def go_onto_an_empty_cluster_and_off_again(root: Path, stack: str) -> None:
    with LocalStack.start(root / "cluster") as cluster:
        api = cluster.api
        config = stack_file(stack)["config"]
        app_namespace = config[f"{KEY}appNamespace"]
        assert api.find(f"/api/v1/namespaces/{app_namespace}") is None  # nothing made by hand
        if config.get(f"{KEY}monitoring") == "prometheusOperator":
            kube.install_crds(api, kube.OPERATOR_CRDS)  # what the stack wants, as the README says
        engine = production_engine(Engine.create(root / "engine"), cluster, stack)

        engine.up(stack)
        assert api.find(f"/api/v1/namespaces/{app_namespace}") is not None
        binding = api.get(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{app_namespace}/rolebindings/velero-restore")
        assert binding["roleRef"]["name"] == "velero-restore"
        assert len(api.items("/apis/velero.io/v1/namespaces/velero/schedules")) == 12
        deployment = api.get("/apis/apps/v1/namespaces/velero/deployments/velero")
        assert deployment["status"].get("availableReplicas") == 1  # kwok's fake node runs it

        engine.preview(stack, "--expect-no-changes")

        engine.destroy(stack)
        assert api.find("/apis/apps/v1/namespaces/velero/deployments/velero") is None
        namespace = api.find(f"/api/v1/namespaces/{app_namespace}")
        assert namespace is not None and namespace["status"]["phase"] == "Active"  # the application's: kept
        # Kept: Velero's namespace and its CRDs (Velero's records; Helm keeps a chart's CRDs too).
        assert api.find("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io")
        assert api.get("/api/v1/namespaces/velero")["status"]["phase"] == "Active"
        assert [r["type"] for r in engine.resources(stack) if r["type"] != "pulumi:pulumi:Stack"] == []

        # Recovery on the same cluster: a new up adopts what the destroy kept (the provider refuses
        # to create an object that exists, unless the program asked for an upsert).
        engine.up(stack)
        assert api.get("/apis/apps/v1/namespaces/velero/deployments/velero")["status"].get("availableReplicas") == 1
        engine.preview(stack, "--expect-no-changes")
        engine.destroy(stack)


def without_upsert(engine: Engine) -> None:
    """The engine's copy of the program with the chart's provider's upsertExistingObjects off."""
    program = engine.project / "velero_pulumi" / "backups.py"
    text = program.read_text()
    assert text.count("upsert_existing_objects=True") == 1
    program.write_text(text.replace("upsert_existing_objects=True", "upsert_existing_objects=False"))


# A stack whose monitoring needs no operator CRDs: the test is about the chart's kept CRDs.
ANNOTATIONS_STACK = next(stack for stack in PRODUCTION_STACKS
                         if stack_file(stack)["config"].get(f"{KEY}monitoring") == "annotations")


def test_without_the_upsert_the_second_up_fails_on_what_destroy_kept(engine, empty_cluster):
    """The adoption above passes for the right reason: this provider release refuses to create an
    object that already exists, and the program's upsert on the chart's provider is what lets the
    second up adopt the CRDs a destroy keeps."""
    production_engine(engine, empty_cluster, ANNOTATIONS_STACK)
    without_upsert(engine)
    engine.up(ANNOTATIONS_STACK)
    engine.destroy(ANNOTATIONS_STACK)
    assert empty_cluster.api.find("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io")
    # After the CRDs fail, the engine still waits for the steps in flight (the node agent's DaemonSet
    # await) before it exits; on a loaded machine that wait once outlasted ten minutes. The refusal
    # comes first, so an up stopped while it waits is as failed as one that exits.
    try:
        again = engine.up(ANNOTATIONS_STACK, check=False, timeout=300)
        assert again.code != 0
        output = again.output
    except EngineError as stopped:
        output = str(stopped)
    assert re.search(r'customresourcedefinitions\.apiextensions\.k8s\.io "\w+\.velero\.io" already exists', output), \
        output[-3000:]


@pytest.fixture(scope="module")
def production_runs(tmp_path_factory) -> dict[str, Future]:
    """Every production stack's run, each on a cluster of its own, all at once: most of a run is
    waiting (the provider's ten seconds for a Service's endpoints to settle, the garbage
    collector's first look at new CRDs on delete), so side by side they take little longer than
    one. By stack, the future of its run."""
    roots = {stack: tmp_path_factory.mktemp(f"production-{stack}") for stack in PRODUCTION_STACKS}
    with ThreadPoolExecutor(max_workers=len(roots)) as pool:
        return {stack: pool.submit(go_onto_an_empty_cluster_and_off_again, root, stack) for stack, root in roots.items()}


@pytest.mark.parametrize("stack", PRODUCTION_STACKS)
def test_a_production_stack_goes_onto_an_empty_cluster_and_off_again(production_runs, stack):
    production_runs[stack].result()  # re-raises what failed in the run


def test_a_cluster_without_the_operators_crds_is_one_sentence(engine, empty_cluster):
    production_engine(engine, empty_cluster, "prod")
    result = engine.up("prod", check=False)
    assert result.code != 0
    assert (f"{KEY}monitoring = 'prometheusOperator': expected a cluster that serves PrometheusRule "
            "(monitoring.coreos.com/v1) and ServiceMonitor (monitoring.coreos.com/v1), which this one does not: "
            "install the Prometheus Operator") in result.output
    assert "or set monitoring: annotations" in result.output
    assert "Traceback" not in result.output and result.seconds < 30
    assert [r["type"] for r in engine.resources("prod") if r["type"] != "pulumi:pulumi:Stack"] == []
