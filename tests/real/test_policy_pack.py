"""The policy pack inside a real `pulumi preview`: the committed stacks pass with nothing to say,
and each mandatory policy fails a preview that breaks it, by stack config where the program's own
validation lets the config through, else by a code regression (regressions.py)."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from policy import backup_policies as rules
from realtier.run.engine import Engine, policy_reports

from ..cli_config import stack_names
from .stacks import LOCAL_CHART, init_committed_stack

MANDATORY = {policy.name for policy in rules.POLICIES if policy.name != "decided-at-up"}
STATIC_KEY = "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=example-secret-key\n"


def preview_with_pack(engine, stack: str):
    return engine.run("preview", "--stack", stack, "--policy-pack", "policy", check=False)


def with_regression(engine, name: str) -> None:
    shutil.copy(Path(__file__).with_name("regressions.py"), engine.project / "regressions.py")
    main = engine.project / "__main__.py"
    main.write_text(f"import regressions\n\nregressions.inject({name!r})\n" + main.read_text())


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


# Every preview of this module: by ("passes", stack) and ("breaks", policy), (stack, config,
# secret config, regression). The dev stack's run on the tests' Docker daemon (the Docker half of
# ./scripts/test), the production stacks' on the local cluster (the other half).
CASES = {("passes", stack): (stack, None, None, None) for stack in stack_names()}
CASES.update({("breaks", policy): (stack, config, secrets, regression)
              for policy, stack, config, secrets, regression, _ in BROKEN})
DEV_CASES = {key: case for key, case in CASES.items() if case[0] == "dev"}
PRODUCTION_CASES = {key: case for key, case in CASES.items() if case[0] != "dev"}
WORDS = {policy: words for policy, *_, words in BROKEN}


def started_previews(tmp_path_factory, cases: dict, env: dict[str, str], chart: str) -> dict[tuple[str, str], Future]:
    """`cases` previewed a few at a time (each is mostly the engine and its plugins starting, so two
    cores run three of them in little more than the time of two): the future of each result."""

    def preview(root: Path, stack: str, config: dict | None, secrets: dict | None, regression: str | None):
        engine = Engine.create(root, env=env)
        init_committed_stack(engine, stack, {"veleroChart": chart, **(config or {})}, secrets)
        if regression:
            with_regression(engine, regression)
        return preview_with_pack(engine, stack)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return {key: pool.submit(preview, tmp_path_factory.mktemp("-".join(key)), *case) for key, case in cases.items()}


@pytest.fixture(scope="module")
def dev_previews(tmp_path_factory, docker, chart_repository) -> dict[tuple[str, str], Future]:
    """On Docker, with the chart from the https repository."""
    return started_previews(tmp_path_factory, DEV_CASES, chart_repository.environment(), chart_repository.url)


@pytest.fixture(scope="module")
def production_previews(tmp_path_factory, production_kubeconfig) -> dict[tuple[str, str], Future]:
    """On the local cluster, with the local chart."""
    return started_previews(tmp_path_factory, PRODUCTION_CASES, {"KUBECONFIG": str(production_kubeconfig)}, LOCAL_CHART)


def passes_with_nothing_to_say(result) -> None:
    assert result.code == 0, result.output
    assert policy_reports(result) == []
    assert "brrtrouter-backup-policies@v0.1.0" in result.stdout
    for silent_skip in ("can't run policy", "v0.0.1", "decides at `pulumi up`"):
        assert silent_skip not in result.output


def breaks_with_its_name_and_message(result, policy: str) -> None:
    assert result.code != 0
    reports = policy_reports(result)
    assert {report.policy for report in reports} == {policy}, reports
    assert all(report.level == "mandatory" for report in reports)
    assert any(WORDS[policy] in report.message for report in reports), reports


def test_the_dev_stack_file_passes_with_nothing_to_say(dev_previews):
    passes_with_nothing_to_say(dev_previews[("passes", "dev")].result())


@pytest.mark.parametrize("stack", [key[1] for key in PRODUCTION_CASES if key[0] == "passes"])
def test_every_production_stack_file_passes_with_nothing_to_say(production_previews, stack):
    passes_with_nothing_to_say(production_previews[("passes", stack)].result())


@pytest.mark.parametrize("policy", [key[1] for key in DEV_CASES if key[0] == "breaks"])
def test_a_dev_preview_that_breaks_a_policy_fails_with_its_name_and_message(dev_previews, policy):
    breaks_with_its_name_and_message(dev_previews[("breaks", policy)].result(), policy)


@pytest.mark.parametrize("policy", [key[1] for key in PRODUCTION_CASES if key[0] == "breaks"])
def test_a_production_preview_that_breaks_a_policy_fails_with_its_name_and_message(production_previews, policy):
    breaks_with_its_name_and_message(production_previews[("breaks", policy)].result(), policy)
