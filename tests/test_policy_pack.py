"""The CrossGuard policy pack: a passing and a failing case for every policy.

Rules are checked twice: as functions on the stacks' real resource inputs, and through the pack
itself, started as the Pulumi CLI starts it and asked over its gRPC analyzer interface.
"""

from __future__ import annotations

import base64
import copy
import subprocess
import sys
from typing import Optional

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy import backup_policies as rules

from .harness import PROJECT_DIR, plain
from .stacks import preview_stack, run_stack

POLICY_DIR = PROJECT_DIR / "policy"


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def props_of(run, type_: str, name: Optional[str] = None) -> dict:
    return copy.deepcopy(
        next(plain(r.inputs) for r in run.registrations if r.type == type_ and (name is None or r.name == name))
    )


def pairs(run) -> list[tuple[str, dict]]:
    """Each resource as the pack's stack policies see it: inputs, or a component's registered outputs."""
    return [
        (r.type, plain(run.registered_outputs.get(r.urn, {}) if r.type.startswith("brrtrouter:") else r.inputs))
        for r in run.registrations
    ]


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


STATIC_KEY = "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=example-secret-key\n"


def test_production_no_static_keys(dev, prod):
    assert rules.static_key_violations(pairs(prod)) == []
    assert rules.static_key_violations(pairs(dev)) == []  # the MinIO user's key is dev's own
    static = run_stack("prod", credentialsMode="secret", awsRoleArn="", cloudCredentials=STATIC_KEY)
    assert rules.static_key_violations(pairs(static)) == [
        "secret velero-credentials holds a static cloud key in production: use workload identity "
        "(credentialsMode workloadIdentity)"
    ]
    # As Kubernetes stores it (data, base64), the key is found too.
    as_data = [(kind, {**props, "data": {"cloud": base64.b64encode(STATIC_KEY.encode()).decode()}, "stringData": {}}
                if kind == rules.SECRET else props) for kind, props in pairs(static)]
    assert rules.static_key_violations(as_data)


def test_only_the_credentials_velero_is_given_are_read():
    # The generated repository password is no cloud key, and unknown until `pulumi up`: not read.
    resources = [
        (rules.LOCATION, {"spec": {"provider": "aws", "config": {"region": "eu-west-1"}}}),
        (rules.INSTALL, {"credentialsSecret": None}),
        (rules.SECRET, {"metadata": {"name": "velero-repo-credentials"}, "stringData": "<unknown>"}),
    ]
    assert rules.static_key_violations(resources) == []


def test_secrets_are_secret_in_the_state_without_a_policy(dev):
    # pulumi-kubernetes marks a Secret's data and stringData as secret outputs on every Secret, so
    # no policy is needed (nor could one fail); the inputs are secrets as the program gives them.
    secrets = dev.of_type(rules.SECRET)
    assert len(secrets) == 2
    for secret in secrets:
        assert {"data", "stringData"} <= set(secret.additional_secret_outputs)
        assert secret.secret("stringData")


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
    assert rules.stack_plugin_violations(pairs(dev)) == []
    install = {"veleroImage": "velero/velero:v1.18.1", "pluginImages": ["velero/velero-plugin-for-aws:v1.12.0"]}
    assert rules.stack_plugin_violations([(rules.INSTALL, install)]) == [
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
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert levels.pop("decided-at-up") == analyzer_pb2.ADVISORY  # it reports, it never blocks
    assert len(levels) == 10 and set(levels.values()) == {analyzer_pb2.MANDATORY}


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


def test_the_pack_reports_an_unreachable_s3_url_and_a_lost_volume(analyzer, dev):
    location = props_of(dev, rules.LOCATION)
    location["spec"]["config"]["s3Url"] = "http://host.docker.internal:9000"
    assert set(analyze(analyzer, rules.LOCATION, location)) == {"s3-url-reachable-from-cluster"}
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


# --- a preview, where values computed by the update are not known yet ------------------------------


def analyzer_view(value):
    """A request's inputs as the engine hands them to a policy pack: secrets unwrapped, unknowns kept."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return analyzer_view(value["value"])
        return {key: analyzer_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [analyzer_view(item) for item in value]
    return value


def analyze_as_engine(stub, kind: str, urn: str, props: dict, secret_outputs=()) -> list:
    name = urn.rsplit("::", 1)[-1]
    request = analyzer_pb2.AnalyzeRequest(
        type=kind, properties=struct(props), urn=urn, name=name,
        options=analyzer_pb2.AnalyzerResourceOptions(additionalSecretOutputs=list(secret_outputs)))
    return list(stub.Analyze(request).diagnostics)


def analyze_stack_as_engine(stub, resources: list[tuple[str, str, dict]]) -> list:
    request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=kind, urn=urn, name=urn.rsplit("::", 1)[-1], properties=struct(props),
                                      options=analyzer_pb2.AnalyzerResourceOptions())
        for kind, urn, props in resources
    ])
    return list(stub.AnalyzeStack(request).diagnostics)


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-gcp", "prod-azure"])
def test_in_a_preview_before_anything_exists_every_policy_decides(analyzer, stack):
    run = preview_stack(stack)
    # The dev preview really holds unknowns: MinIO's generated credentials, the cluster's kubeconfig.
    assert any(rpc.UNKNOWN in str(r.raw_inputs) for r in run.registrations) == (stack == "dev")
    for r in run.registrations:
        found = analyze_as_engine(analyzer, r.type, r.urn, analyzer_view(r.raw_inputs), r.additional_secret_outputs)
        assert [(d.policyName, d.message) for d in found] == [], r.name
    # Stack policies get outputs: none yet for what the update creates; a component's registered outputs.
    outputs = [(r.type, r.urn, analyzer_view(run.raw_registered_outputs.get(r.urn, {}))
                if r.type.startswith("brrtrouter:") else {}) for r in run.registrations]
    found = analyze_stack_as_engine(analyzer, outputs)
    assert [(d.policyName, d.message) for d in found] == []


def undecided_stack(kind_of_value: str) -> list[tuple[str, str, dict]]:
    urn = f"urn:pulumi:undecided-{kind_of_value}::brrtrouter-backup::"
    return [
        (rules.LOCATION, urn + f"{rules.LOCATION}::location", {
            "metadata": {"name": "default"},
            "spec": {"provider": "aws", "config": {"region": "eu-west-1", "kmsKeyId": "alias/x"},
                     "credential": {"name": "velero-credentials", "key": "cloud"}}}),
        (rules.SECRET, urn + f"{rules.SECRET}::credentials", {
            "metadata": {"name": "velero-credentials", "namespace": "velero"},
            "stringData": {"cloud": kind_of_value}}),
    ]


def test_a_value_unknown_in_the_preview_is_said_and_decided_at_up(analyzer):
    # Preview: the credentials Velero is given are computed by the update.
    preview = undecided_stack(rpc.UNKNOWN)
    for kind, urn, props in preview:
        assert analyze_as_engine(analyzer, kind, urn, props, ["data", "stringData"]) == []
    [note] = analyze_stack_as_engine(analyzer, [(kind, urn, {}) for kind, urn, _ in preview])
    assert (note.policyName, note.enforcementLevel) == ("decided-at-up", analyzer_pb2.ADVISORY)
    assert "\nproduction-no-static-keys decides at `pulumi up`, not in this preview: " in note.message
    assert "can't be known during preview" in note.message
    # Up: the value is known, and it is a static key: the mandatory policy decides.
    up = undecided_stack(STATIC_KEY)
    for kind, urn, props in up:
        analyze_as_engine(analyzer, kind, urn, props, ["data", "stringData"])
    found = analyze_stack_as_engine(analyzer, [(kind, urn, props) for kind, urn, props in up])
    assert [(d.policyName, d.enforcementLevel) for d in found] == [("production-no-static-keys", analyzer_pb2.MANDATORY)]


def test_a_resource_value_unknown_in_the_preview_is_said_with_its_resource(analyzer, dev):
    schedule = props_of(dev, rules.SCHEDULE, "schedule-loki-logs-schedule")
    schedule["spec"]["template"]["ttl"] = rpc.UNKNOWN
    urn = "urn:pulumi:undecided-ttl::brrtrouter-backup::kubernetes:velero.io/v1:Schedule::loki-logs"
    assert analyze_as_engine(analyzer, rules.SCHEDULE, urn, schedule) == []
    notes = analyze_stack_as_engine(analyzer, [(rules.SCHEDULE, urn, {})])
    mine = [d for d in notes if d.urn == urn]
    assert [d.policyName for d in mine] == ["decided-at-up"]
    assert ("\nbackup-ttl-within-bounds decides at `pulumi up`, not in this preview: "
            "kubernetes:velero.io/v1:Schedule loki-logs: string value at .spec.template.ttl") in mine[0].message
    schedule["spec"]["template"]["ttl"] = "1h"
    [violation] = analyze_as_engine(analyzer, rules.SCHEDULE, urn, schedule)
    assert violation.policyName == "backup-ttl-within-bounds"
    assert not [d for d in analyze_stack_as_engine(analyzer, [(rules.SCHEDULE, urn, {})]) if d.urn == urn]


def test_claims_without_known_inputs_or_outputs_are_decided_at_up(analyzer):
    urn = "urn:pulumi:undecided-claims::brrtrouter-backup::kubernetes:core/v1:PersistentVolumeClaim::never-analyzed"
    notes = analyze_stack_as_engine(analyzer, [(rules.CLAIM, urn, {})])
    assert [n.message.split("\n", 1)[1] for n in notes if n.policyName == "decided-at-up"] == [
        "pvc-covered-by-file-system-backup decides at `pulumi up`, not in this preview: "
        "a PersistentVolumeClaim's metadata is not known during this preview"
    ]


@pytest.mark.parametrize(("url", "annotations", "refused"), [
    ("http://brrtrouter-minio:9000", {}, False),  # a container on the cluster's network
    ("http://minio.storage.svc.cluster.local:9000", {}, False),
    ("http://minio.storage.svc:9000", {}, False),
    ("http://127.0.0.1:9000", {}, False),  # loopback (s3-url-reachable-from-cluster judges that one)
    ("https://minio.backup.example.internal:9000", {}, False),
    ("http://minio.backup.example.internal:9000", {}, True),
    ("http://10.20.0.5:9000", {}, True),
    ("http://minio.backup.example.internal:9000", {"brrtrouter.io/allow-plain-http": "true"}, False),
])
def test_plain_http_only_inside_the_cluster_unless_the_stack_says_so(url, annotations, refused):
    location = {"metadata": {"name": "default", "annotations": annotations},
                "spec": {"provider": "aws", "config": {"s3Url": url}}}
    violations = rules.plain_http_violations(location)
    assert bool(violations) == refused
    if refused:
        assert "sends every backup and the store's credentials unencrypted" in violations[0]
        assert "s3AllowPlainHttp: true" in violations[0]


def test_the_pack_refuses_plain_http_to_an_onprem_store_and_passes_it_when_allowed(analyzer):
    location = props_of(run_stack("prod-onprem", s3Url="http://minio.backup.example.internal:9000"), rules.LOCATION)
    assert set(analyze(analyzer, rules.LOCATION, location)) == {"plain-http-only-inside-the-cluster"}
    allowed = props_of(run_stack("prod-onprem", s3Url="http://minio.backup.example.internal:9000",
                                 s3AllowPlainHttp="true"), rules.LOCATION)
    assert analyze(analyzer, rules.LOCATION, allowed) == {}
