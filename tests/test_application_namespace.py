"""The application namespace: made sure of on any cluster (also an empty one), never deleted; and
an existing cluster is asked, before anything is registered, for the APIs the stack relies on."""

from __future__ import annotations

import pytest

from velero_pulumi.components import ApplicationNamespace, ApplicationNamespaceArgs
from velero_pulumi.config import cluster

from .cli_config import cli_config
from .harness import config_error, run, run_main
from .stacks import SECRET_KEYS, run_stack

PATCH = "kubernetes:core/v1:NamespacePatch"
COMPONENT = "brrtrouter:backup:ApplicationNamespace"
KEY = "brrtrouter-backup:"


def test_the_namespace_is_a_retained_server_side_apply_of_its_name_only():
    built = run(lambda: ApplicationNamespace("app-namespace", ApplicationNamespaceArgs(name="brrtrouter")))
    patch = built.one(PATCH)
    # Applied, not created: an existing namespace (the application's own) is adopted, not an error.
    assert patch.values["metadata"] == {"name": "brrtrouter"}
    assert patch.retain_on_delete
    assert patch.parent == built.one(COMPONENT).urn


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-gcp", "prod-azure"])
def test_every_stack_makes_sure_of_its_application_namespace_before_using_it(stack):
    result = run_stack(stack)
    # A dependency on the component is one on what it holds: the namespace itself.
    namespace = result.one(PATCH, "app-namespace-namespace")
    assert namespace.values["metadata"]["name"] == cli_config(stack)[f"{KEY}appNamespace"]
    # Velero (its restore RoleBinding with restricted RBAC) and the alert rules wait for it.
    assert namespace.urn in result.one("brrtrouter:backup:VeleroInstall").dependencies
    if stack == "dev":
        assert namespace.urn in result.one("brrtrouter:backup:WorkloadStorage").dependencies


def test_restricted_rbac_binds_restores_in_the_application_namespace_it_made_sure_of():
    result = run_stack("prod")
    binding = result.one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert binding.values["metadata"]["namespace"] == "brrtrouter"
    assert result.one(PATCH, "app-namespace-namespace").urn in result.one("brrtrouter:backup:VeleroInstall").dependencies


def test_alert_rules_in_the_application_namespace_wait_for_it():
    result = run_stack("prod", monitoring="annotations")
    alerts = result.one("brrtrouter:backup:VeleroAlerts")
    assert result.one("kubernetes:core/v1:ConfigMap", "velero-alerts-rules").values["metadata"]["namespace"] == "brrtrouter"
    assert result.one(PATCH, "app-namespace-namespace").urn in alerts.dependencies


# --- the preflight of an existing cluster ---------------------------------------------------------


def cluster_serving(kinds: dict[str, set[str]], calls: list | None = None):
    def discover(kubeconfig, context, group_versions):
        if calls is not None:
            calls.append((kubeconfig, context, tuple(group_versions)))
        return {group_version: kinds.get(group_version, set()) for group_version in group_versions}

    return discover


@pytest.mark.parametrize("stack", ["prod", "prod-gcp", "prod-azure"])
def test_no_operator_crds_is_one_clear_error_before_any_resource(monkeypatch, stack):
    monkeypatch.setattr(cluster, "discover_apis", cluster_serving({}))
    message = config_error(cli_config(stack))
    assert f"{KEY}monitoring = 'prometheusOperator': expected a cluster that serves PrometheusRule " \
           "(monitoring.coreos.com/v1) and ServiceMonitor (monitoring.coreos.com/v1), which this one does not" in message
    assert "install the Prometheus Operator" in message and "or set monitoring: annotations" in message


def test_one_missing_kind_is_named_alone(monkeypatch):
    monkeypatch.setattr(cluster, "discover_apis", cluster_serving({"monitoring.coreos.com/v1": {"ServiceMonitor"}}))
    message = config_error(cli_config("prod"))
    assert "serves PrometheusRule (monitoring.coreos.com/v1), which this one does not" in message


def test_the_stack_is_checked_with_its_own_context(monkeypatch):
    calls = []
    monkeypatch.setattr(cluster, "discover_apis", cluster_serving({"monitoring.coreos.com/v1": {"PrometheusRule", "ServiceMonitor"}}, calls))
    run_main(cli_config("prod"), stack="prod")
    assert calls == [(None, "brrtrouter-prod", ("monitoring.coreos.com/v1",))]


def test_an_unreachable_cluster_is_an_error_naming_the_context(monkeypatch):
    def unreachable(kubeconfig, context, group_versions):
        raise cluster.ClusterUnreachable("GET https://10.0.0.1/apis/monitoring.coreos.com/v1 failed: timed out")

    monkeypatch.setattr(cluster, "discover_apis", unreachable)
    message = config_error(cli_config("prod"))
    assert f"{KEY}kubeContext = 'brrtrouter-prod': expected a cluster the program can reach" in message
    assert "timed out" in message


def test_a_kubeconfig_secret_is_named_but_never_shown(monkeypatch):
    def unreachable(kubeconfig, context, group_versions):
        raise cluster.ClusterUnreachable("connection refused")

    monkeypatch.setattr(cluster, "discover_apis", unreachable)
    config = cli_config("prod", {"kubeContext": "", "kubeconfig": "apiVersion: v1\nclusters: []\n"})
    message = config_error(config, secret_keys=SECRET_KEYS)
    assert f"{KEY}kubeconfig = '<secret>': expected a cluster the program can reach" in message
    assert "clusters: []" not in message


def test_annotations_monitoring_needs_nothing_from_the_cluster(monkeypatch):
    calls = []
    monkeypatch.setattr(cluster, "discover_apis", cluster_serving({}, calls))
    run_main(cli_config("prod", {"monitoring": "annotations"}), stack="prod")
    assert calls == []
