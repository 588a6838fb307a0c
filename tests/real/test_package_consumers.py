"""The component package `velero` (provider/) in programs of other languages, on the real engine: the
YAML and TypeScript examples (examples/yaml, examples/typescript) and the YAML composition of the
parts (examples/yaml-parts) each add the package and `pulumi up` onto a local cluster. Their
objects are the ones the project's own Python program makes for the same settings; a second
preview changes nothing; destroy removes what they made. The YAML consumer's location is found
Available by a real Velero server.

For the YAML programs the package is a copy of the repository's package files and provider/, its
plugin's virtualenv filled from the package's wheel first, so the engine's own pip (which installs
provider/'s requirements every time it loads the plugin) finds what it needs installed. The
TypeScript program adds it from a tag of a git repository on an https git host of the test's own
(realtier/run/gitserver.py), as a user adds it from theirs: the CLI clones it and fills the
plugin's virtualenv itself."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from realtier.build.cache import cache_root
from realtier.run.engine import Engine, Program, copy_parts, project_program
from realtier.run.localstack import LocalStack
from realtier.run.velero import VeleroServer

from ..harness import PACKAGE_FILES, PROJECT_DIR, virtualenv_with_the_wheel
from .roundtrip import ACCESS_KEY, BUCKET, Mc
from .stacks import LOCAL_CHART

EXAMPLES = PROJECT_DIR / "examples"
STACK = "example"  # not dev: the project's own Pulumi.dev.yaml would set the program's dev stack
PASSWORD = "the-consumers-repository-password"
# One key for every consumer's store: the objects, with the credentials' hash on Velero's pods, compare.
SECRET_KEY = "the-consumers-minio-secret-key"
SCHEDULES = {"everything": "0 2 * * *", "orders-data": "0 */6 * * *"}
# The labels that name the program that made an object, which differ from program to program.
PROGRAM_LABELS = ("pulumi.com/project", "pulumi.com/stack")
MANAGED_BY = ("pulumi", "Helm")
NAMESPACED = {"velero": ("apps/v1/deployments", "apps/v1/daemonsets", "v1/secrets", "v1/configmaps",
                         "v1/serviceaccounts", "v1/services", "velero.io/v1/backupstoragelocations",
                         "velero.io/v1/schedules"),
              "default": ("v1/configmaps",)}


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """provider/ of a copy of the package, with its plugin's virtualenv made from the wheel."""
    root = tmp_path_factory.mktemp("velero-package")
    copy_parts(PROJECT_DIR, (*PACKAGE_FILES, "requirements.txt", "provider"), root)
    virtualenv_with_the_wheel(root / "provider" / "venv", tmp_path_factory.mktemp("wheel"))
    return root / "provider"


def consumer_engine(root: Path, kubeconfig: Path, example: str, language: str, env: dict[str, str] | None = None) -> Engine:
    """An engine on a copy of examples/<example>."""
    source = EXAMPLES / example
    parts = tuple(path.name for path in source.iterdir() if path.name not in ("node_modules", "sdks", "bin"))
    return Engine.create(root, env={"KUBECONFIG": str(kubeconfig), "npm_config_cache": str(cache_root() / "npm"),
                                    **(env or {})},
                         program=Program(source, parts, {}), languages=(language,))


def use_package_copy(engine: Engine, package: Path) -> None:
    """The YAML example's `packages:` entry pointed at the copy of the package. (A YAML program
    names the package there: `pulumi package add` fails in one, as pulumi-yaml 1.25's language host
    cannot link the SDK it generates, "method Link not implemented".)"""
    project_file = engine.project / "Pulumi.yaml"
    project = yaml.safe_load(project_file.read_text())
    assert project["packages"] == {"velero": "../../provider"}, project.get("packages")
    project["packages"] = {"velero": str(package)}
    project_file.write_text(yaml.safe_dump(project, sort_keys=False))


def add_package(engine: Engine, source: str) -> dict:
    """`pulumi package add <source>`, as the TypeScript example's comment tells its user: the
    package's entry under `packages:` of Pulumi.yaml (its SDK linked, checked by the caller)."""
    engine.run("package", "add", source, timeout=900)
    entry = (yaml.safe_load((engine.project / "Pulumi.yaml").read_text()).get("packages") or {}).get("velero")
    assert entry, yaml.safe_load((engine.project / "Pulumi.yaml").read_text())
    return entry if isinstance(entry, dict) else {"source": entry}


def store_for(cluster: LocalStack, root: Path) -> Mc:
    """The bucket and Velero's user in the cluster's MinIO, by the project's own set-up script."""
    mc = Mc(cluster, root / "mc", SECRET_KEY)
    made = mc.setup_script()
    assert made.returncode == 0, made.stderr
    return mc


def consumer_config(cluster: LocalStack, mc: Mc) -> tuple[dict, dict]:
    return ({"chart": LOCAL_CHART, "bucket": BUCKET, "s3Url": cluster.minio_endpoint, "locationAvailableTimeout": "0"},
            {"accessKeyId": ACCESS_KEY, "secretAccessKey": mc.env["VELERO_SECRET_KEY"], "repositoryPassword": PASSWORD})


def made_objects(cluster: LocalStack) -> dict[str, dict]:
    """What Pulumi and the chart made, by kind/namespace/name, without what the server or the
    making program adds (status, uids, times, the program's own labels), and with the cluster's
    own MinIO endpoint (each local cluster has its port) as one placeholder."""
    api = cluster.api
    found = {}
    for namespace, kinds in NAMESPACED.items():
        for kind in kinds:
            group = "api" if kind.startswith("v1/") else "apis"
            for item in api.items(f"/{group}/{kind.rsplit('/', 1)[0]}/namespaces/{namespace}/{kind.rsplit('/', 1)[1]}"):
                metadata = item["metadata"]
                labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k not in PROGRAM_LABELS}
                if labels.get("app.kubernetes.io/managed-by") not in MANAGED_BY:
                    continue
                found[f"{kind}/{namespace}/{metadata['name']}"] = {
                    "labels": labels,
                    "annotations": {k: v for k, v in (metadata.get("annotations") or {}).items()
                                    if not k.startswith("kubectl.kubernetes.io/")},
                    **{key: value for key, value in item.items() if key not in ("metadata", "status")},
                }
                for allocated in ("clusterIP", "clusterIPs"):  # the API server's choice
                    found[f"{kind}/{namespace}/{metadata['name']}"].get("spec", {}).pop(allocated, None)
    return json.loads(json.dumps(found).replace(cluster.minio_endpoint, "<the cluster's MinIO>"))


def differences(made: object, expected: object, path: str = "") -> list[str]:
    """Where two objects differ, as paths with both values."""
    if isinstance(made, dict) and isinstance(expected, dict):
        return [line for key in sorted(set(made) | set(expected), key=str)
                for line in differences(made.get(key), expected.get(key), f"{path}/{key}")]
    if isinstance(made, list) and isinstance(expected, list) and len(made) == len(expected):
        return [line for index, (a, b) in enumerate(zip(made, expected)) for line in differences(a, b, f"{path}[{index}]")]
    return [] if made == expected else [f"{path}: {str(made)[:200]} != {str(expected)[:200]}"]


def assert_the_consumer_made_velero(engine: Engine, cluster: LocalStack) -> dict[str, dict]:
    api = cluster.api
    location = api.get("/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default")["spec"]
    assert location["objectStorage"]["bucket"] == BUCKET
    schedules = {s["metadata"]["name"]: s["spec"]["schedule"] for s in api.items("/apis/velero.io/v1/namespaces/velero/schedules")}
    assert schedules == SCHEDULES
    # The secret input reaches the cluster as a Secret and stays a secret in the state.
    secret = api.get("/api/v1/namespaces/velero/secrets/velero-repo-credentials")
    assert base64.b64decode(secret["data"]["repository-password"]).decode() == PASSWORD
    state = engine.run("stack", "export", "--stack", STACK).stdout
    assert PASSWORD not in state
    assert engine.outputs(STACK) == {"storageLocation": "default", "schedules": sorted(SCHEDULES)}
    return made_objects(cluster)


def yaml_consumer_up(example: str, package: Path, cluster: LocalStack, root: Path) -> Engine:
    """examples/<example>, a YAML program, up onto `cluster` with the copy of the package."""
    mc = store_for(cluster, root)
    engine = consumer_engine(root / "engine", cluster.kubeconfig, example, "yaml")
    use_package_copy(engine, package)
    config, secrets_ = consumer_config(cluster, mc)
    engine.init_stack(STACK, config, secrets_)
    engine.up(STACK, timeout=900)
    return engine


def assert_the_same_velero_and_no_change(engine: Engine, cluster: LocalStack, expected: dict[str, dict]) -> None:
    assert differences(assert_the_consumer_made_velero(engine, cluster), expected) == []
    engine.preview(STACK, "--expect-no-changes")


def assert_destroy_removes_them(engine: Engine, api) -> None:
    engine.destroy(STACK)
    assert api.find("/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default") is None
    assert api.items("/apis/velero.io/v1/namespaces/velero/schedules") == []
    assert api.find("/apis/apps/v1/namespaces/velero/deployments/velero") is None


@pytest.fixture(scope="module")
def python_program_objects(tmp_path_factory) -> dict[str, dict]:
    """What the project's own program makes on a cluster that exists, for the consumers' settings."""
    root = tmp_path_factory.mktemp("python-program")
    with LocalStack.start(root / "cluster") as cluster:
        mc = store_for(cluster, root)
        engine = Engine.create(root / "engine", env={"KUBECONFIG": str(cluster.kubeconfig)}, program=project_program())
        catalogue = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())["resources"]["backups"]["properties"]["catalogue"]
        (engine.project / "consumer-catalogue.yaml").write_text(yaml.safe_dump(catalogue))
        config, secrets_ = consumer_config(cluster, mc)
        engine.init_stack(STACK, {
            "clusterMode": "existing", "kubeContext": "localstack", "namePrefix": "velero", "appNamespace": "default",
            "catalogue": "consumer-catalogue.yaml", "storageBackend": "s3Compatible", "credentialsMode": "secret",
            "backupBucket": config["bucket"], "s3Url": config["s3Url"], "veleroChart": config["chart"],
            "locationAvailableTimeout": "0",
        }, {"s3AccessKeyId": secrets_["accessKeyId"], "s3SecretAccessKey": secrets_["secretAccessKey"],
            "veleroRepositoryPassword": PASSWORD})
        engine.up(STACK, timeout=900)
        objects = made_objects(cluster)
        engine.destroy(STACK)
        return objects


def test_a_yaml_program_adds_the_package_and_gets_velero_with_a_location_a_real_velero_finds_available(
        package, python_program_objects, tmp_path):
    with LocalStack.start(tmp_path / "cluster") as cluster:
        engine = yaml_consumer_up("yaml", package, cluster, tmp_path)
        assert_the_same_velero_and_no_change(engine, cluster, python_program_objects)

        account = cluster.service_account_kubeconfig("velero", "velero-server", tmp_path / "velero-server.kubeconfig")
        velero = VeleroServer.start(tmp_path / "velero", account)
        try:
            location = velero.wait_for_location(cluster.api, timeout=60)
            assert location["status"]["phase"] == "Available"
        finally:
            velero.stop()
        assert_destroy_removes_them(engine, cluster.api)


def test_a_typescript_program_adds_the_package_from_a_git_tag_and_gets_the_same_velero(
        package_at_a_tag, python_program_objects, tmp_path):
    source = package_at_a_tag.plugin_source
    with LocalStack.start(tmp_path / "cluster") as cluster:
        mc = store_for(cluster, tmp_path)
        engine = consumer_engine(tmp_path / "engine", cluster.kubeconfig, "typescript", "nodejs",
                                 package_at_a_tag.environment)
        npm = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=engine.project, env=engine.environment(),
                             capture_output=True, text=True, timeout=600)
        assert npm.returncode == 0, npm.stdout + npm.stderr
        entry = add_package(engine, source)
        # Recorded as the CLI writes a git source: the host and path, with the tag.
        assert entry == {"source": source.removeprefix("https://")}, entry
        assert json.loads((engine.project / "package.json").read_text())["dependencies"]["@brrtrouter/velero"]
        config, secrets_ = consumer_config(cluster, mc)
        engine.init_stack(STACK, config, secrets_)
        engine.up(STACK, timeout=900)

        assert_the_same_velero_and_no_change(engine, cluster, python_program_objects)
        assert_destroy_removes_them(engine, cluster.api)


def test_a_yaml_program_composes_the_parts_and_gets_the_same_velero(package, python_program_objects, tmp_path):
    # examples/yaml-parts: Install, StorageLocation, two BackupSchedules and Alerts, for the same
    # catalogue as examples/yaml, whose objects the project's program made.
    parts = yaml.safe_load((EXAMPLES / "yaml-parts" / "Pulumi.yaml").read_text())
    whole = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    variables = parts["variables"]
    schedules = {name: variables[reference.strip("${}")] for name, reference in variables["catalogue"]["schedules"].items()}
    assert {**variables["catalogue"], "schedules": schedules} == whole["resources"]["backups"]["properties"]["catalogue"]
    with LocalStack.start(tmp_path / "cluster") as cluster:
        engine = yaml_consumer_up("yaml-parts", package, cluster, tmp_path)
        assert_the_same_velero_and_no_change(engine, cluster, python_program_objects)
        assert_destroy_removes_them(engine, cluster.api)


def test_the_real_cli_prints_the_golden_schema(package, tmp_path):
    engine = consumer_engine(tmp_path / "engine", tmp_path / "no-cluster", "yaml", "yaml")
    use_package_copy(engine, package)  # the CLI reads the project's packages for every command
    printed = engine.run("package", "get-schema", str(package), timeout=900).json()
    (tmp_path / "printed.json").write_text(json.dumps(printed, indent=2))
    assert differences(printed, json.loads((PROJECT_DIR / "provider" / "schema.json").read_text())) == []
