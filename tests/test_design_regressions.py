"""DESIGN §3: the mistakes of the earlier build, each a test that fails if it comes back.

They run on the dev stack as the CLI runs it, and on configs that try to bring a mistake back.
"""

from __future__ import annotations

import yaml

from velero_pulumi.config.versions import PLUGIN_MINOR_FOR_VELERO, split_image

from .cli_config import USER_SECRETS, cli_config
from .harness import PROJECT_DIR, config_error, run_main
from .stacks import SECRET_KEYS

SCHEDULE = "kubernetes:velero.io/v1:Schedule"


def schedules(dev):
    return {r.values["metadata"]["name"]: r.values["spec"] for r in dev.of_type(SCHEDULE)}


def selects(template: dict, service: str) -> bool:
    selector = template.get("labelSelector")
    if selector is None:
        return True
    return any(service in expression["values"] for expression in selector["matchExpressions"])


def keeps_pods(template: dict) -> bool:
    return "includedResources" not in template or "pods" in template["includedResources"]


# 1. Hooks run only on pods that are in the backup.
def test_1_every_hook_targets_pods_the_backup_contains(dev):
    checked = 0
    for name, spec in schedules(dev).items():
        template = spec["template"]
        for entry in template.get("hooks", {}).get("resources", []):
            service = entry["labelSelector"]["matchLabels"]["app"]
            assert keeps_pods(template), name
            assert selects(template, service), (name, service)
            assert entry["includedNamespaces"] == template["includedNamespaces"], name
            checked += 1
    assert checked >= 5  # postgres and redis hooks in several schedules


def test_1_a_hook_schedule_that_drops_pods_is_refused(tmp_path):
    document = yaml.safe_load((PROJECT_DIR / "config" / "catalogue.yaml").read_text())
    document["schedules"]["postgres-database"]["resources"] = ["deployments", "services", "persistentvolumeclaims"]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document))
    assert "expected pods among the resources" in config_error(cli_config("dev", {"catalogue": str(path)}))


# 2. File-system backup skips hostPath volumes; it happens when the pod is backed up.
def test_2_data_volumes_are_local_pvs_never_hostpath(dev):
    volumes = dev.of_type("kubernetes:core/v1:PersistentVolume")
    assert len(volumes) == 4
    for volume in volumes:
        spec = volume.values["spec"]
        assert "hostPath" not in spec
        assert spec["local"]["path"].startswith("/mnt/")
        assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"]


def test_2_schedules_of_services_with_volumes_copy_them_with_pods_in_scope(dev):
    with_volumes = {r.values["metadata"]["labels"]["app"] for r in dev.of_type("kubernetes:core/v1:PersistentVolumeClaim")}
    for name, spec in schedules(dev).items():
        template = spec["template"]
        if any(selects(template, service) for service in with_volumes) and keeps_pods(template):
            assert template["defaultVolumesToFsBackup"] is True, name
    values = dev.one("kubernetes:helm.sh/v4:Chart").values["values"]
    assert values["deployNodeAgent"] is True


# 3. host.docker.internal does not resolve inside KIND on Linux.
def test_3_s3_url_is_reachable_from_inside_the_cluster(dev):
    config = dev.one("kubernetes:velero.io/v1:BackupStorageLocation").values["spec"]["config"]
    assert config["s3Url"] == "http://brrtrouter-minio:9000"
    for unreachable in ("host.docker.internal", "localhost", "127.0.0.1"):
        assert unreachable not in config["s3Url"]
    container = dev.one("docker:index/container:Container").values
    network = dev.one("command:local:Command", "kind-cluster").values["environment"]["KIND_EXPERIMENTAL_DOCKER_NETWORK"]
    assert container["networksAdvanced"] == [{"name": network, "aliases": ["brrtrouter-minio"]}]
    assert config["publicUrl"] == "http://localhost:9000"


# 4. The default kopia repository password must be replaced before the first backup.
def test_4_repository_password_comes_from_the_stacks_secret_and_is_in_place_before_velero(dev):
    secret = next(
        r for r in dev.of_type("kubernetes:core/v1:Secret") if r.values["metadata"]["name"] == "velero-repo-credentials"
    )
    password = secret.values["stringData"]["repository-password"]
    assert password == USER_SECRETS["dev"]["veleroRepositoryPassword"] != "static-passw0rd"
    assert secret.secret("stringData")
    assert secret.values["metadata"]["namespace"] == "velero"
    assert secret.urn in dev.one("kubernetes:helm.sh/v4:Chart").dependencies


def test_4_no_repository_password_fails_closed_on_every_stack():
    # Never a made-up one: it would not open the backups already in the bucket.
    for stack in ("dev", "prod", "prod-gcp", "prod-azure", "prod-onprem"):
        message = config_error(cli_config(stack, {"veleroRepositoryPassword": ""}), stack=stack, secret_keys=SECRET_KEYS)
        assert "veleroRepositoryPassword = '': expected the password of Velero's kopia repository, as a secret" in message
        assert 'pulumi config set --secret veleroRepositoryPassword "$(openssl rand -base64 36)"' in message


def test_4_destroy_then_up_gives_velero_the_same_password():
    # Two runs of the same stack, as after `pulumi destroy` and `pulumi up` (nothing of the first
    # is kept but the stack's config): the secret Velero opens the repository with is the same.
    def password(run):
        secret = next(r for r in run.of_type("kubernetes:core/v1:Secret")
                      if r.values["metadata"]["name"] == "velero-repo-credentials")
        return secret.values["stringData"]["repository-password"]

    first = run_main(cli_config("prod"), stack="prod", secret_keys=SECRET_KEYS)
    second = run_main(cli_config("prod"), stack="prod", secret_keys=SECRET_KEYS)
    assert password(first) == password(second)


# 5. No volume snapshot location: nothing to snapshot on KIND, and a VSL flag without provider crashes.
def test_5_no_snapshot_location_and_no_snapshots(dev):
    assert not [r for r in dev.registrations if "VolumeSnapshotLocation" in r.type]
    configuration = dev.one("kubernetes:helm.sh/v4:Chart").values["values"]["configuration"]
    assert configuration["volumeSnapshotLocation"] == []
    assert "defaultVolumeSnapshotLocations" not in configuration
    assert all(spec["template"]["snapshotVolumes"] is False for spec in schedules(dev).values())


# 6. Pinned CRDs that are real CRDs (the old recipe saved a 404 page and reported success).
def test_6_crds_are_real_and_of_the_pinned_release():
    from .schemas import CRDS_DIR

    files = sorted(CRDS_DIR.glob("*/*.yaml"))
    assert len(files) == 13
    for path in files:
        crd = yaml.safe_load(path.read_text())
        assert crd["kind"] == "CustomResourceDefinition" and crd["spec"]["group"] == "velero.io", path
    pinned = split_image(cli_config("dev")["brrtrouter-backup:veleroImage"])
    source = (CRDS_DIR / "SOURCE.txt").read_text()
    assert f"v{pinned.minor}." in source


# 7. Plugin and server versions must match Velero's matrix.
def test_7_plugin_matches_the_server(dev):
    values = dev.one("kubernetes:helm.sh/v4:Chart").values["values"]
    server = split_image(f"{values['image']['repository']}:{values['image']['tag']}")
    [plugin] = values["initContainers"]
    assert split_image(plugin["image"]).minor == PLUGIN_MINOR_FOR_VELERO[server.minor]


def test_7_a_mismatched_plugin_is_refused():
    config = cli_config("dev", {"veleroAwsPluginImage": "velero/velero-plugin-for-aws:v1.12.3"})
    assert "matches Velero 1.18.1" in config_error(config)


# 10. useOwnerReferencesInBackup: true deletes a schedule's backups with the schedule.
def test_10_no_schedule_owns_its_backups(dev):
    specs = schedules(dev)
    assert len(specs) == 12
    assert all(spec["useOwnerReferencesInBackup"] is False for spec in specs.values())
