"""The CrossGuard policy pack: a passing and a failing case for every policy.

Rules are checked twice: as functions on the stacks' real resource inputs, and through the pack
itself, started as the Pulumi CLI starts it and asked over its gRPC analyzer interface.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Optional

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy import backup_policies as rules

from .harness import PROJECT_DIR, plain
from .stacks import run_stack

POLICY_DIR = PROJECT_DIR / "policy"


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def props_of(run, type_: str, name: Optional[str] = None) -> dict:
    return copy.deepcopy(
        next(plain(r.inputs) for r in run.registrations if r.type == type_ and (name is None or r.name == name))
    )


def pairs(run) -> list[tuple[str, dict]]:
    return [(r.type, plain(r.inputs)) for r in run.registrations]


# --- each rule: a passing case from a real stack, a failing one -----------------------------------


def test_pvc_coverage(dev):
    assert rules.uncovered_claim_violations(pairs(dev)) == []
    # Only the schedules that do not copy Loki's volume remain:
    without_loki = [
        (kind, props) for kind, props in pairs(dev)
        if kind != rules.SCHEDULE or props["metadata"]["name"] in ("prometheus-data", "configuration", "pre-upgrade")
    ]
    assert sorted(rules.uncovered_claim_violations(without_loki)) == [
        f"PVC brrtrouter-dev/{claim}-storage is not copied by any schedule with file-system backup: its data would not be backed up"
        for claim in ("grafana", "jaeger", "loki")
    ]


def test_hook_schedules_keep_pods(dev):
    schedule = props_of(dev, rules.SCHEDULE, "schedule-postgres-database-schedule")
    assert rules.hook_schedule_violations(schedule) == []
    schedule["spec"]["template"]["includedResources"] = ["deployments", "persistentvolumeclaims"]
    assert "Velero runs hooks only on pods that are in the backup" in rules.hook_schedule_violations(schedule)[0]


def test_ttl_bounds(dev):
    schedule = props_of(dev, rules.SCHEDULE, "schedule-disaster-recovery-schedule")
    assert rules.ttl_violations(schedule, rules.DEFAULT_TTL_BOUNDS) == []
    assert rules.ttl_violations(schedule, {"minTtl": "24h", "maxTtl": "720h"}) == [
        "schedule disaster-recovery keeps backups 8760h: outside 24h..720h"
    ]
    schedule["spec"]["template"]["ttl"] = "12h"
    assert rules.ttl_violations(schedule, rules.DEFAULT_TTL_BOUNDS)
    del schedule["spec"]["template"]["ttl"]
    assert "has no TTL" in rules.ttl_violations(schedule, rules.DEFAULT_TTL_BOUNDS)[0]


@pytest.mark.parametrize("url", ["http://host.docker.internal:9000", "http://localhost:9000", "http://127.0.0.1:9000"])
def test_s3_url_reachable_from_the_cluster(dev, url):
    location = props_of(dev, rules.LOCATION)
    assert rules.s3_url_violations(location) == []
    location["spec"]["config"]["s3Url"] = url
    assert "is not reachable from inside the cluster" in rules.s3_url_violations(location)[0]


def test_production_storage_encrypted(dev, prod):
    assert rules.encryption_violations(props_of(prod, rules.LOCATION)) == []
    assert rules.encryption_violations(props_of(dev, rules.LOCATION)) == []  # MinIO beside KIND is not production
    location = props_of(prod, rules.LOCATION)
    del location["spec"]["config"]["kmsKeyId"]
    assert rules.encryption_violations(location) == [
        "storage location default writes to S3 without kmsKeyId or serverSideEncryption"
    ]


def test_production_no_static_keys(dev, prod):
    assert rules.static_key_violations(pairs(prod)) == []
    assert rules.static_key_violations(pairs(dev)) == []  # the MinIO user's key is dev's own
    secret = {
        "metadata": {"name": "velero-credentials"},
        "stringData": {"cloud": "[default]\naws_access_key_id=AKIA\naws_secret_access_key=abc\n"},
    }
    assert "holds a static cloud key in production" in rules.static_key_violations([*pairs(prod), (rules.SECRET, secret)])[0]


def test_secrets_marked_secret(dev):
    secrets = dev.of_type(rules.SECRET)
    assert secrets and all(rules.secret_output_violations(r.additional_secret_outputs, r.values) == [] for r in secrets)
    credentials = next(r for r in secrets if r.values["metadata"]["name"] == "velero-credentials")
    assert rules.secret_output_violations([], credentials.values) == [
        "secret velero-credentials does not mark data, stringData as secret outputs"
    ]


def test_data_volumes_retained(dev):
    volumes = [props for kind, props in pairs(dev) if kind == rules.DOCKER_VOLUME]
    assert len(volumes) == 5 and all(rules.retained_volume_violations(v) == [] for v in volumes)
    volume = copy.deepcopy(volumes[0])
    volume["labels"] = [label for label in volume["labels"] if label["label"] != rules.RETAINED_LABEL]
    assert "would delete its data" in rules.retained_volume_violations(volume)[0]


def test_schedules_do_not_own_backups(dev):
    schedule = props_of(dev, rules.SCHEDULE)
    assert rules.owner_reference_violations(schedule) == []
    schedule["spec"]["useOwnerReferencesInBackup"] = True
    assert "would delete its backups" in rules.owner_reference_violations(schedule)[0]


def test_plugin_matches_velero(dev):
    chart = props_of(dev, rules.CHART)
    assert rules.chart_plugin_violations(chart) == []
    chart["values"]["initContainers"][0]["image"] = "velero/velero-plugin-for-aws:v1.12.0"
    assert rules.chart_plugin_violations(chart) == [
        "plugin velero/velero-plugin-for-aws:v1.12.0 does not match Velero 1.18.1: Velero's matrix wants v1.14.x"
    ]


def deployment(server: str, plugin: str) -> dict:
    return {
        "metadata": {"name": "velero"},
        "spec": {"template": {"spec": {
            "containers": [{"name": "velero", "image": server}],
            "initContainers": [{"name": "velero-plugin-for-gcp", "image": plugin}],
        }}},
    }


def test_plugin_matches_velero_in_the_rendered_deployment():
    assert rules.deployment_plugin_violations(deployment("velero/velero:v1.17.2", "velero/velero-plugin-for-gcp:v1.13.1")) == []
    assert rules.deployment_plugin_violations(deployment("velero/velero:v1.17.2", "velero/velero-plugin-for-gcp:v1.14.4"))


# --- the pack itself, over gRPC as the CLI talks to it --------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=POLICY_DIR, stdout=subprocess.PIPE)
    try:
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()


def struct(value: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def analyze(stub, registration_type: str, props: dict, secret_outputs: list[str] = ()) -> dict[str, str]:
    request = analyzer_pb2.AnalyzeRequest(
        type=registration_type,
        properties=struct(props),
        urn=f"urn:pulumi:test::brrtrouter-backup::{registration_type}::x",
        name="x",
        options=analyzer_pb2.AnalyzerResourceOptions(additionalSecretOutputs=list(secret_outputs)),
    )
    return {d.policyName: d.message for d in stub.Analyze(request).diagnostics}


def analyze_stack(stub, registrations: list[tuple[str, dict]]) -> dict[str, list[str]]:
    request = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=kind, properties=struct(props), urn=f"urn:pulumi:test::p::{kind}::r{index}", name=f"r{index}",
                options=analyzer_pb2.AnalyzerResourceOptions(),
            )
            for index, (kind, props) in enumerate(registrations)
        ]
    )
    found: dict[str, list[str]] = {}
    for diagnostic in stub.AnalyzeStack(request).diagnostics:
        found.setdefault(diagnostic.policyName, []).append(diagnostic.message)
    return found


def test_the_pack_serves_every_policy_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "brrtrouter-backup-policies"
    assert {policy.name for policy in info.policies} == {policy.name for policy in rules.POLICIES}
    assert len(info.policies) == 10
    assert {policy.enforcementLevel for policy in info.policies} == {analyzer_pb2.MANDATORY}


def test_every_resource_of_every_stack_passes(analyzer):
    for stack in ("dev", "prod", "prod-gcp", "prod-azure"):
        run = run_stack(stack)
        for registration in run.registrations:
            found = analyze(analyzer, registration.type, plain(registration.inputs), registration.additional_secret_outputs)
            assert found == {}, (stack, registration.name, found)
        assert analyze_stack(analyzer, pairs(run)) == {}, stack


def test_the_pack_reports_a_schedule_that_breaks_the_rules(analyzer, dev):
    schedule = props_of(dev, rules.SCHEDULE, "schedule-postgres-database-schedule")
    schedule["spec"]["useOwnerReferencesInBackup"] = True
    schedule["spec"]["template"]["includedResources"] = ["deployments"]
    schedule["spec"]["template"]["ttl"] = "1h"
    found = analyze(analyzer, rules.SCHEDULE, schedule)
    assert set(found) == {"hook-schedules-keep-pods", "backup-ttl-within-bounds", "schedules-do-not-own-backups"}
    assert "keeps backups 1h: outside 24h..8760h" in found["backup-ttl-within-bounds"]


def test_the_pack_reports_an_unreachable_s3_url_a_plain_secret_and_a_lost_volume(analyzer, dev):
    location = props_of(dev, rules.LOCATION)
    location["spec"]["config"]["s3Url"] = "http://host.docker.internal:9000"
    assert set(analyze(analyzer, rules.LOCATION, location)) == {"s3-url-reachable-from-cluster"}
    secret = props_of(dev, rules.SECRET)
    assert set(analyze(analyzer, rules.SECRET, secret, secret_outputs=[])) == {"secrets-marked-secret"}
    volume = props_of(dev, rules.DOCKER_VOLUME)
    volume["labels"] = []
    assert set(analyze(analyzer, rules.DOCKER_VOLUME, volume)) == {"data-volumes-retained"}


def test_the_pack_reports_uncovered_claims_across_the_stack(analyzer, dev):
    resources = [(kind, props) for kind, props in pairs(dev) if kind != rules.SCHEDULE]
    found = analyze_stack(analyzer, resources)
    assert set(found) == {"pvc-covered-by-file-system-backup"}
    assert len(found["pvc-covered-by-file-system-backup"]) == 4


def test_enforcement_and_bounds_are_configurable(analyzer, dev):
    config = {
        "backup-ttl-within-bounds": analyzer_pb2.PolicyConfig(
            enforcementLevel=analyzer_pb2.ADVISORY, properties=struct({"maxTtl": "720h"})
        )
    }
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    try:
        request_props = props_of(dev, rules.SCHEDULE, "schedule-disaster-recovery-schedule")
        response = analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=rules.SCHEDULE, properties=struct(request_props), urn="urn:x", name="x",
                options=analyzer_pb2.AnalyzerResourceOptions(),
            )
        )
        [diagnostic] = response.diagnostics
        assert diagnostic.policyName == "backup-ttl-within-bounds"
        assert diagnostic.enforcementLevel == analyzer_pb2.ADVISORY
        assert "outside 24h..720h" in diagnostic.message
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))
