"""The components as a package (velero-pulumi), on the real engine: its wheel installs into a fresh
virtualenv, where the example program (examples/python) puts Velero, a location and two schedules
onto a cluster that exists; pip installs it from a git tag too; and a stack that the program made
before the package existed keeps every URN when it is updated with the program that imports the
package."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from realtier.run.engine import PROGRAM_PARTS, Engine, Program, copy_parts, project_program
from realtier.run.localstack import LocalStack

from ..harness import PROJECT_DIR, virtualenv_with, virtualenv_with_the_wheel
from .stacks import LOCAL_CHART, init_committed_stack, write_production_kubeconfig

# The program as it was before its components and settings (components/, config/*.py at the top
# of the project) became the package velero_pulumi: the parent of the commit that moved them.
MOVED = "components/__init__.py"
PARTS_BEFORE = ("Pulumi.yaml", "__main__.py", "program.py", "components", "config", "policy")
STACK = "prod-onprem"
EXAMPLE = PROJECT_DIR / "examples" / "python"


def program_before_the_package(root: Path) -> Path:
    """The project's program before the package, from git (a clone with its history)."""
    moved = subprocess.run(["git", "-C", str(PROJECT_DIR), "rev-list", "-1", "HEAD", "--", MOVED],
                           capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", f"{moved}^",
                              *PARTS_BEFORE, *(p.name for p in PROJECT_DIR.glob("Pulumi.*.yaml"))],
                             capture_output=True)
    if not moved or archive.returncode != 0:
        pytest.fail(f"the commit before the package is not in this clone (a shallow clone? fetch its history): "
                    f"{archive.stderr.decode(errors='replace')}", pytrace=False)
    root.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    return root


def test_a_stack_made_before_the_package_keeps_every_urn_and_changes_nothing(tmp_path):
    with LocalStack.start(tmp_path / "cluster") as cluster:
        engine = Engine.create(tmp_path / "engine", env={"KUBECONFIG": str(write_production_kubeconfig(cluster))},
                               program=project_program(program_before_the_package(tmp_path / "before"), PARTS_BEFORE))
        assert not (engine.project / "velero_pulumi").exists()
        init_committed_stack(engine, STACK, {"veleroChart": LOCAL_CHART, "locationAvailableTimeout": "0"})
        engine.up(STACK)
        before = sorted(resource["urn"] for resource in engine.resources(STACK))

        # The program of this commit, as a user's checkout gets it: the old modules gone.
        for old in ("components", "config"):
            shutil.rmtree(engine.project / old)
        copy_parts(PROJECT_DIR, PROGRAM_PARTS, engine.project)
        preview = engine.preview(STACK).json()
        assert set(preview["changeSummary"]) == {"same"}, preview["changeSummary"]
        update = engine.up(STACK)
        assert "replaced" not in update.stdout and "deleted" not in update.stdout, update.stdout
        assert sorted(resource["urn"] for resource in engine.resources(STACK)) == before
        engine.preview(STACK, "--expect-no-changes")
        engine.destroy(STACK)


def test_the_wheel_in_a_fresh_virtualenv_runs_the_example_onto_a_cluster_that_exists(tmp_path):
    venv = virtualenv_with_the_wheel(tmp_path / "venv", tmp_path)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import velero_pulumi; print(velero_pulumi.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed package, not the checkout's

    defaults = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    with LocalStack.start(tmp_path / "cluster") as cluster:
        engine = Engine.create(tmp_path / "engine", env={"KUBECONFIG": str(cluster.kubeconfig)},
                               program=Program(EXAMPLE, ("Pulumi.yaml", "__main__.py", "catalogue.yaml"), {"venv": venv}))
        assert not (engine.project / "velero_pulumi").exists()
        engine.init_stack("example", {
            "chart": LOCAL_CHART, "veleroImage": defaults["veleroImage"]["default"],
            "awsPluginImage": defaults["veleroAwsPluginImage"]["default"], "bucket": "example-backups",
            "s3Url": cluster.minio_endpoint,
        }, {"accessKeyId": "example-access-key", "secretAccessKey": "example-secret-key",
            "repositoryPassword": "the-example-repository-password"})
        engine.up("example")

        api = cluster.api
        assert api.get("/apis/apps/v1/namespaces/velero/deployments/velero")["status"].get("availableReplicas") == 1
        location = api.get("/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default")["spec"]
        assert location["objectStorage"]["bucket"] == "example-backups"
        assert location["config"]["s3Url"] == cluster.minio_endpoint
        schedules = {s["metadata"]["name"]: s["spec"] for s in api.items("/apis/velero.io/v1/namespaces/velero/schedules")}
        assert {name: spec["schedule"] for name, spec in schedules.items()} == {
            "orders-data": "0 */6 * * *", "everything": "0 2 * * *"}
        assert schedules["orders-data"]["template"]["storageLocation"] == "default"
        secret = api.get("/api/v1/namespaces/velero/secrets/velero-repo-credentials")
        assert base64.b64decode(secret["data"]["repository-password"]) == b"the-example-repository-password"
        state = engine.run("stack", "export", "--stack", "example").stdout
        assert "the-example-repository-password" not in state and "example-secret-key" not in state
        assert engine.outputs("example") == {"storageLocation": "default", "schedules": ["orders-data", "everything"]}

        engine.preview("example", "--expect-no-changes")
        engine.destroy("example")
        assert api.find("/apis/velero.io/v1/namespaces/velero/schedules/everything") is None


def test_pip_installs_the_package_from_a_git_tag_as_the_docs_say(package_at_a_tag, tmp_path):
    # docs/use-in-your-program.md: pip install "velero-pulumi @ git+<the repository's URL>@<tag>"
    venv = virtualenv_with(tmp_path / "venv", package_at_a_tag.pip_requirement, package_at_a_tag.environment)
    shown = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import velero_pulumi.package as p; print(p.package_version(), p.__file__, "
                            "[c.__name__ for c in p.COMPONENTS])"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split(" ", 2)
    assert shown[0] == package_at_a_tag.tag.removeprefix("v")
    assert Path(shown[1]).is_relative_to(venv), shown  # installed from the tag, not the checkout
    assert shown[2].strip() == "['Backups', 'Install', 'StorageLocation', 'BackupSchedule', 'Alerts']"
