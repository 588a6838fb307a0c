"""The policy pack inside a real `pulumi preview`: the committed stacks pass with nothing to say,
and each mandatory policy fails a preview that breaks it, by stack config where the program's own
validation lets the config through, else by a code regression (regressions.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policy import backup_policies as rules
from realtier.engine import policy_reports

from ..cli_config import stack_names
from .stacks import LOCAL_CHART, init_committed_stack

MANDATORY = {policy.name for policy in rules.POLICIES if policy.name != "decided-at-up"}
STATIC_KEY = "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=example-secret-key\n"


@pytest.fixture
def stack_for(engine, docker, chart_repository, production_kubeconfig):
    """Init a stack in the engine's project for a real preview: dev on Docker with the chart from the
    https repository, a production stack on the local cluster with the local chart."""

    def init(stack: str, config: dict | None = None, secrets: dict | None = None):
        if stack == "dev":
            engine.env.update(chart_repository.environment())
            init_committed_stack(engine, stack, {"veleroChart": chart_repository.url, **(config or {})}, secrets)
        else:
            engine.env["KUBECONFIG"] = str(production_kubeconfig)
            init_committed_stack(engine, stack, {"veleroChart": LOCAL_CHART, **(config or {})}, secrets)
        return engine

    return init


def preview_with_pack(engine, stack: str):
    return engine.run("preview", "--stack", stack, "--policy-pack", "policy", check=False)


def with_regression(engine, name: str) -> None:
    shutil.copy(Path(__file__).with_name("regressions.py"), engine.project / "regressions.py")
    main = engine.project / "__main__.py"
    main.write_text(f"import regressions\n\nregressions.inject({name!r})\n" + main.read_text())


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_file_passes_with_nothing_to_say(stack_for, stack):
    engine = stack_for(stack)
    result = preview_with_pack(engine, stack)
    assert result.code == 0, result.output
    assert policy_reports(result) == []
    assert "brrtrouter-backup-policies@v0.1.0" in result.stdout
    for silent_skip in ("can't run policy", "v0.0.1", "decides at `pulumi up`"):
        assert silent_skip not in result.output


BROKEN = [
    # (policy, stack, config, secret config, regression, words of the message)
    ("pvc-covered-by-file-system-backup", "dev",
     {"scheduleOverrides": [f"{name}.paused=true" for name in
                            ("brrtrouter-complete", "disaster-recovery", "loki-logs", "observability-stack")]},
     None, None, "PVC brrtrouter-dev/loki-storage is not copied by any schedule with file-system backup"),
    ("backup-ttl-within-bounds", "dev", {"scheduleOverrides": ["loki-logs.ttl=1h"]}, None, None,
     "schedule loki-logs keeps backups 1h: outside 24h..8760h"),
    ("production-no-static-keys", "prod", {"credentialsMode": "secret", "awsRoleArn": ""},
     {"cloudCredentials": STATIC_KEY}, None, "secret velero-credentials holds a static cloud key in production"),
    ("hook-schedules-keep-pods", "dev", None, None, "hook-schedules-keep-pods",
     "has hooks but its includedResources ['deployments', 'persistentvolumeclaims'] drop pods"),
    ("schedules-do-not-own-backups", "dev", None, None, "schedules-do-not-own-backups",
     "sets useOwnerReferencesInBackup: deleting it would delete its backups"),
    ("s3-url-reachable-from-cluster", "dev", None, None, "s3-url-reachable-from-cluster",
     "has s3Url http://localhost:9000: localhost is not reachable from inside the cluster"),
    ("production-storage-encrypted", "prod", None, None, "production-storage-encrypted",
     "storage location default writes to S3 without kmsKeyId or serverSideEncryption"),
    ("plain-http-only-inside-the-cluster", "prod-onprem", {"s3Url": "http://minio.backup.example.internal:9000"},
     None, None, "plain http to minio.backup.example.internal, outside the cluster, sends every backup"),
    ("data-volumes-retained", "dev", None, None, "data-volumes-retained",
     "is not marked retained (brrtrouter.io/retain-on-delete=true): `pulumi destroy` would delete its data"),
    ("plugin-matches-velero", "dev", None, None, "plugin-matches-velero",
     "plugin velero/velero-plugin-for-aws:v1.12.0 does not match Velero 1.18.1: Velero's matrix wants v1.14.x"),
]


def test_every_mandatory_policy_has_a_breaking_preview():
    assert {case[0] for case in BROKEN} == MANDATORY


@pytest.mark.parametrize(("policy", "stack", "config", "secrets", "regression", "words"), BROKEN,
                         ids=[case[0] for case in BROKEN])
def test_a_preview_that_breaks_a_policy_fails_with_its_name_and_message(
        stack_for, policy, stack, config, secrets, regression, words):
    engine = stack_for(stack, config, secrets)
    if regression:
        with_regression(engine, regression)
    result = preview_with_pack(engine, stack)
    assert result.code != 0
    reports = policy_reports(result)
    assert {report.policy for report in reports} == {policy}, reports
    assert all(report.level == "mandatory" for report in reports)
    assert any(words in report.message for report in reports), reports
