"""Production stacks: S3, GCS and Azure on an existing cluster, run from their stack files as the CLI would."""

from __future__ import annotations

import pytest


from .cli_config import cli_config, stack_names, stack_file
from .harness import config_error, plain
from .stacks import SECRET_KEYS, run_stack
from .schemas import core_errors, crd_errors, manifest

PROD_STACKS = ("prod", "prod-gcp", "prod-azure", "prod-onprem")
CHART = "kubernetes:helm.sh/v4:Chart"
LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation"
CORE_GROUPS = ("kubernetes:core/", "kubernetes:storage.k8s.io/", "kubernetes:rbac.authorization.k8s.io/")

def chart_values(run):
    return run.one(CHART).values["values"]


def location_spec(run):
    return run.one(LOCATION).values["spec"]


def secret_named(run, name):
    found = [r for r in run.of_type("kubernetes:core/v1:Secret") if r.values["metadata"]["name"] == name]
    return found[0] if found else None


def test_there_is_a_stack_file_per_backend():
    assert set(PROD_STACKS) | {"dev"} == set(stack_names())
    backends = {stack: stack_file(stack)["config"]["brrtrouter-backup:storageBackend"] for stack in PROD_STACKS}
    assert backends == {"prod": "aws", "prod-gcp": "gcp", "prod-azure": "azure", "prod-onprem": "s3Compatible"}


@pytest.mark.parametrize("stack", ["dev", *PROD_STACKS])
def test_every_stack_file_runs_and_its_objects_match_their_schemas(stack):
    run = run_stack(stack)
    velero = [manifest(plain(r.inputs)) for r in run.registrations if r.type.startswith("kubernetes:velero.io/")]
    assert len(velero) == 13
    assert {o["metadata"]["name"]: crd_errors(o) for o in velero} == {o["metadata"]["name"]: [] for o in velero}
    core = [(r.name, manifest(plain(r.inputs))) for r in run.registrations if r.custom and r.type.startswith(CORE_GROUPS)]
    assert core
    assert {name: core_errors(o, "1.34.0") for name, o in core} == {name: [] for name, _ in core}


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_production_registers_nothing_of_docker_kind_or_minio(stack):
    run = run_stack(stack)
    assert not [r.type for r in run.registrations if r.type.startswith(("docker:", "command:"))]
    assert run.of_type("random:index/randomPassword:RandomPassword") == []  # the repository password is config
    assert not [r for r in run.registrations if r.type == "kubernetes:core/v1:PersistentVolume"]
    provider = run.one("pulumi:providers:kubernetes", "cluster")
    assert provider.values["context"] == stack_file(stack)["config"]["brrtrouter-backup:kubeContext"]
    assert "kubeconfig" not in provider.values and "upsertExistingObjects" not in provider.values
    # The chart's objects go to the same cluster through a provider that adopts what exists: the
    # CRDs a destroy kept (VeleroInstall keeps them), so a reinstall does not fail on them.
    chart_provider = run.one("pulumi:providers:kubernetes", "cluster-chart")
    assert chart_provider.values == {**provider.values, "upsertExistingObjects": "true"}  # provider config is text
    assert run.one(CHART).provider.rsplit("::", 1)[0] == chart_provider.urn


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_production_uses_restricted_rbac_and_its_monitoring_mode(stack):
    run = run_stack(stack)
    values = chart_values(run)
    assert values["rbac"] == {"create": True, "clusterAdministrator": False}
    roles = {r.values["metadata"]["name"]: r.values["rules"] for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")}
    assert set(roles) == {"velero-backup", "velero-restore"}
    # Backup only reads everything; writing is bound to the application namespace.
    assert roles["velero-backup"][0] == {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}
    [binding] = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert binding.values["metadata"]["namespace"] == "brrtrouter"
    assert binding.values["subjects"] == [{"kind": "ServiceAccount", "name": "velero-server", "namespace": "velero"}]
    if stack_file(stack)["config"]["brrtrouter-backup:monitoring"] == "prometheusOperator":
        assert sorted(r.name for r in run.of_type("kubernetes:core/v1:ConfigMap")) == [
            "velero-dashboard-dashboard", "velero-node-agent-config"]
        assert run.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").values["metadata"]["namespace"] == "velero"
        assert values["metrics"]["serviceMonitor"] == {"enabled": True}
    else:  # alerts as a ConfigMap in the application namespace, scraping by annotations
        assert run.one("kubernetes:core/v1:ConfigMap", "velero-alerts-rules").values["metadata"]["namespace"] == "brrtrouter"
        assert values["metrics"]["serviceMonitor"] == {"enabled": False}


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_production_keeps_backups_longer(stack):
    ttl = {r.values["metadata"]["name"]: r.values["spec"]["template"]["ttl"] for r in run_stack(stack).of_type("kubernetes:velero.io/v1:Schedule")}
    assert (ttl["brrtrouter-complete"], ttl["postgres-database"], ttl["configuration"]) == ("2160h", "4320h", "8760h")
    assert ttl["prometheus-data"] == "168h"  # not overridden: the catalogue's


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_production_keeps_veleros_own_frequencies(stack):
    run = run_stack(stack)
    assert location_spec(run)["validationFrequency"] == "1m"
    configuration = chart_values(run)["configuration"]
    assert (configuration["garbageCollectionFrequency"], configuration["defaultRepoMaintainFrequency"]) == ("1h", "1h")


def test_s3_with_kms_and_irsa():
    run = run_stack("prod")
    spec = location_spec(run)
    assert spec["provider"] == "aws"
    assert spec["objectStorage"] == {"bucket": "brrtrouter-velero-backups", "prefix": "brrtrouter-prod"}
    assert spec["config"] == {"region": "eu-west-1", "kmsKeyId": "alias/brrtrouter-velero"}
    assert "credential" not in spec
    values = chart_values(run)
    assert [c["image"] for c in values["initContainers"]] == ["velero/velero-plugin-for-aws:v1.14.3"]
    assert values["credentials"] == {"useSecret": False}
    assert values["serviceAccount"]["server"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/brrtrouter-velero"
    }
    assert secret_named(run, "velero-credentials") is None


def test_gcs_with_workload_identity():
    run = run_stack("prod-gcp")
    spec = location_spec(run)
    assert spec["provider"] == "gcp"
    assert spec["config"] == {
        "kmsKeyName": "projects/brrtrouter-prod/locations/europe-west1/keyRings/backups/cryptoKeys/velero",
        "serviceAccount": "velero@brrtrouter-prod.iam.gserviceaccount.com",
    }
    values = chart_values(run)
    assert [c["name"] for c in values["initContainers"]] == ["velero-plugin-for-gcp"]
    assert values["serviceAccount"]["server"]["annotations"] == {
        "iam.gke.io/gcp-service-account": "velero@brrtrouter-prod.iam.gserviceaccount.com"
    }
    assert values["credentials"] == {"useSecret": False}


def test_azure_blob_with_workload_identity():
    run = run_stack("prod-azure")
    spec = location_spec(run)
    assert spec["provider"] == "azure"
    assert spec["config"] == {
        "resourceGroup": "rg-brrtrouter-backups",
        "storageAccount": "brrtrouterbackups",
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "useAAD": "true",
    }
    values = chart_values(run)
    assert values["podLabels"] == {"azure.workload.identity/use": "true"}
    assert values["serviceAccount"]["server"]["annotations"] == {
        "azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111"
    }
    # No key: the file says only where the account is.
    file = secret_named(run, "velero-credentials").values["stringData"]["cloud"]
    assert file == (
        "AZURE_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000000\n"
        "AZURE_RESOURCE_GROUP=rg-brrtrouter-backups\nAZURE_CLOUD_NAME=AzurePublicCloud\n"
    )
    assert spec["credential"] == {"name": "velero-credentials", "key": "cloud"}


CREDENTIALS = "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=example-secret-key\n"


def test_secret_credentials_mode_for_clusters_without_workload_identity():
    run = run_stack("prod", credentialsMode="secret", awsRoleArn="", cloudCredentials=CREDENTIALS)
    secret = secret_named(run, "velero-credentials")
    assert secret.secret("stringData")
    assert secret.values["stringData"] == {"cloud": CREDENTIALS}
    values = chart_values(run)
    assert values["credentials"] == {"useSecret": True, "existingSecret": "velero-credentials"}
    assert values["serviceAccount"]["server"]["annotations"] == {}
    assert location_spec(run)["credential"] == {"name": "velero-credentials", "key": "cloud"}
    assert CREDENTIALS not in str(run.outputs)


def test_rotating_the_credentials_rolls_the_server():
    first = chart_values(run_stack("prod", credentialsMode="secret", awsRoleArn="", cloudCredentials=CREDENTIALS))
    second = chart_values(
        run_stack("prod", credentialsMode="secret", awsRoleArn="", cloudCredentials=CREDENTIALS.replace("example", "rotated"))
    )
    key = "brrtrouter.io/credentials-sha256"
    assert len(first["podAnnotations"][key]) == 64
    assert first["podAnnotations"][key] != second["podAnnotations"][key]
    assert CREDENTIALS not in str(first)


def test_a_kubeconfig_secret_instead_of_a_context():
    run = run_stack("prod", kubeContext="", kubeconfig="apiVersion: v1\nkind: Config\n")
    for name in ("cluster", "cluster-chart"):
        provider = run.one("pulumi:providers:kubernetes", name)
        assert provider.secret("kubeconfig")
        assert "context" not in provider.values


def signature(run) -> dict:
    return {(r.type, r.name): r.values for r in run.registrations}


GCP_INSTEAD_OF_AWS = dict(
    storageBackend="gcp", awsRegion="", awsKmsKeyId="", awsRoleArn="",
    gcpServiceAccount="velero@brrtrouter-prod.iam.gserviceaccount.com",
)


def test_switching_the_backend_changes_only_the_location_and_the_chart():
    aws, gcp = signature(run_stack("prod")), signature(run_stack("prod", **GCP_INSTEAD_OF_AWS))
    assert set(aws) == set(gcp)
    changed = {key[1] for key in aws if aws[key] != gcp[key]}
    assert changed == {"velero-chart", "backup-location-default"}


def test_switching_to_a_kind_cluster_adds_only_the_local_parts():
    prod, dev = signature(run_stack("prod")), signature(run_stack("dev"))
    added = {key[0] for key in set(dev) - set(prod)}
    assert added <= {
        "pulumi:providers:kubernetes",  # the KIND cluster's instead of the existing one's
        "brrtrouter:backup:DataVolumes", "docker:index/volume:Volume", "brrtrouter:backup:KindCluster",
        "docker:index/network:Network", "command:local:Command", "brrtrouter:backup:MinioServer",
        "random:index/randomString:RandomString", "random:index/randomPassword:RandomPassword",
        "docker:index/remoteImage:RemoteImage", "docker:index/container:Container", "brrtrouter:backup:WorkloadStorage",
        "kubernetes:storage.k8s.io/v1:StorageClass", "kubernetes:core/v1:PersistentVolume",
        "kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap",
    }
    schedules = {key for key in prod if key[0] == "kubernetes:velero.io/v1:Schedule"}
    assert schedules == {key for key in dev if key[0] == "kubernetes:velero.io/v1:Schedule"}


def stack_config_error(stack: str, secret_keys=SECRET_KEYS, **overrides) -> str:
    return config_error(cli_config(stack, overrides, check_types=False), stack=stack, secret_keys=secret_keys)


@pytest.mark.parametrize(
    ("stack", "overrides", "expected"),
    [
        ("prod", dict(azureResourceGroup="rg"), "azureResourceGroup = 'rg': expected no value: it applies to storageBackend azure only"),
        ("prod", dict(gcpServiceAccount="velero@p.iam.gserviceaccount.com"), "gcpServiceAccount = 'velero@p.iam.gserviceaccount.com': expected no value: it applies to storageBackend gcp only"),
        ("prod", dict(awsRegion=""), "awsRegion = '': expected an AWS region such as eu-west-1 (the bucket's region)"),
        ("prod", dict(backupBucket=""), "backupBucket = '': expected the name of the S3 bucket backups go to"),
        ("prod-gcp", dict(backupBucket=""), "backupBucket = '': expected the name of the GCS bucket backups go to"),
        ("prod-azure", dict(azureResourceGroup=""), "azureResourceGroup = '': expected a resource group name"),
        ("prod-azure", dict(azureStorageAccount="Brrt_Backups"), "azureStorageAccount = 'Brrt_Backups': expected a storage account name"),
        ("prod", dict(awsRoleArn=""), "awsRoleArn = '': expected an IAM role ARN such as arn:aws:iam::123456789012:role/velero (IRSA, since credentialsMode is workloadIdentity)"),
        ("prod-azure", dict(azureClientId=""), "azureClientId = '': expected the client id (a UUID) of the managed identity Velero uses"),
        ("prod-gcp", dict(gcpServiceAccount=""), "gcpServiceAccount = '': expected the Google service account Velero acts as"),
        ("prod", dict(awsKmsKeyId=""), "awsKmsKeyId = '': expected a KMS key (or awsServerSideEncryption AES256): production backups are encrypted"),
        ("prod", dict(awsServerSideEncryption="AES256"), "awsServerSideEncryption = 'AES256': expected no value when awsKmsKeyId is set"),
        ("prod", dict(storageBackend="minio"), "storageBackend = 'minio': expected aws, gcp, azure or s3Compatible with clusterMode existing"),
        ("prod", dict(kubeContext=""), "kubeContext = '': expected a context of your kubeconfig, or the kubeconfig itself"),
        ("prod", dict(kubeconfig="apiVersion: v1"), "kubeContext = 'brrtrouter-prod': expected no value when kubeconfig is set"),
        ("prod", dict(credentialsMode="secret", awsRoleArn=""), "cloudCredentials = '': expected the credentials file, as a secret, since credentialsMode is secret"),
        ("prod", dict(cloudCredentials="[default]"), "cloudCredentials = '<set>': expected no value with credentialsMode workloadIdentity"),
        ("prod", dict(credentialsMode="secret", awsRoleArn="arn:aws:iam::123456789012:role/velero", cloudCredentials="[default]"), "awsRoleArn = 'arn:aws:iam::123456789012:role/velero': expected no value with credentialsMode secret"),
        ("prod-gcp", dict(veleroGcpPluginImage="velero/velero-plugin-for-gcp:v1.13.2"), "veleroGcpPluginImage = 'velero/velero-plugin-for-gcp:v1.13.2': expected the plugin release v1.14.x"),
        ("prod-azure", dict(veleroAzurePluginImage="velero/velero-plugin-for-microsoft-azure:v1.12.1"), "expected the plugin release v1.14.x that matches Velero 1.18.1"),
    ],
    ids=[
        "azure-key-on-s3", "gcp-key-on-s3", "no-region", "no-bucket", "no-gcs-bucket", "no-resource-group",
        "bad-storage-account", "irsa-without-role", "azure-wi-without-client-id", "gke-wi-without-account",
        "s3-unencrypted", "kms-and-sse", "minio-on-existing", "no-cluster", "context-and-kubeconfig",
        "secret-mode-without-credentials", "credentials-with-workload-identity", "role-with-secret-mode",
        "gcp-plugin-mismatch", "azure-plugin-mismatch",
    ],
)
def test_wrong_combinations_are_clear_errors_before_any_resource(stack, overrides, expected):
    assert expected in stack_config_error(stack, **overrides)


def test_credentials_and_kubeconfig_only_as_secrets():
    message = stack_config_error(
        "prod", secret_keys=(), credentialsMode="secret", awsRoleArn="", cloudCredentials="[default]\nkey=1",
    )
    assert "cloudCredentials = '<plain text>': expected a secret: pulumi config set --secret cloudCredentials" in message
    assert "key=1" not in message
    message = stack_config_error("prod", secret_keys=(), kubeContext="", kubeconfig="apiVersion: v1")
    assert "kubeconfig = '<plain text>': expected a secret" in message


def test_a_kind_cluster_can_back_up_to_a_cloud_bucket_without_minio():
    run = run_stack(
        "dev", storageBackend="aws", backupBucket="team-velero-dev", awsRegion="eu-west-1",
        awsRoleArn="arn:aws:iam::123456789012:role/velero-dev",
    )
    assert not [r for r in run.registrations if r.name.startswith("minio")]
    assert run.of_type("kubernetes:core/v1:PersistentVolumeClaim")  # the KIND parts stay
    spec = location_spec(run)
    assert (spec["provider"], spec["objectStorage"]["bucket"], spec["config"]) == (
        "aws", "team-velero-dev", {"region": "eu-west-1"}
    )
    assert "minioEndpoint" not in run.outputs


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_production_up_ends_when_the_location_is_available(stack):
    location = run_stack(stack).one("kubernetes:velero.io/v1:BackupStorageLocation").values
    assert location["metadata"]["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.phase}=Available"
    assert location["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "300"
