"""The component package `velero` (velero_pulumi.package, provider/): its schema, and the Backups
component run under mocks, from the inputs the SDK's provider hands it, against the project's own
program for the same settings."""

from __future__ import annotations

import json
import tomllib

import pulumi
import pytest
import yaml

from velero_pulumi.config import ConfigError
from velero_pulumi.package import Backups, BackendKind, defaults
from velero_pulumi.package.schema import package_schema, reference_tables

from .harness import PROJECT_DIR, plain, run
from .stacks import run_stack

GOLDEN_SCHEMA = PROJECT_DIR / "provider" / "schema.json"


def test_the_schema_is_the_golden_file():
    # After a deliberate change: python -m velero_pulumi.package > provider/schema.json
    assert package_schema() == json.loads(GOLDEN_SCHEMA.read_text())
    assert package_schema()["version"] == tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]


def test_the_schema_offers_backups_with_typed_inputs():
    schema = package_schema()
    backups = schema["resources"]["velero:index:Backups"]
    assert backups["isComponent"] is True
    assert set(backups["requiredInputs"]) == {"backend", "repositoryPassword", "catalogue"}
    assert backups["inputProperties"]["backend"]["$ref"] == "#/types/velero:index:Backend"
    assert [v["value"] for v in schema["types"]["velero:index:BackendKind"]["enum"]] == [
        "aws", "gcp", "azure", "s3Compatible"]
    # Credentials may come from another resource or a secret: inputs, not plain values.
    assert "plain" not in backups["inputProperties"]["repositoryPassword"]
    assert "plain" not in schema["types"]["velero:index:Backend"]["properties"]["s3SecretAccessKey"]
    assert set(backups["properties"]) == {"veleroNamespace", "storageLocation", "bucket", "schedules"}


def test_the_package_defaults_are_the_projects():
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    shared = {key: value for key, value in defaults.DEFAULTS.items()
              if key not in defaults.OWN_DEFAULTS and key != "storageClassName"}
    assert {key: str(project[key]["default"]).lower() if isinstance(project[key]["default"], bool)
            else str(project[key]["default"]) for key in shared} == shared


def onprem_catalogue() -> dict:
    """config/catalogue.yaml with prod-onprem's schedule overrides, as a component input."""
    document = yaml.safe_load((PROJECT_DIR / "config" / "catalogue.yaml").read_text())
    for name, ttl in (("brrtrouter-complete", "2160h"), ("postgres-database", "4320h"), ("configuration", "8760h")):
        document["schedules"][name]["ttl"] = ttl
    return document


def onprem_inputs(**changes) -> dict:
    """prod-onprem's settings as the SDK's provider hands them to the component: snake_case
    names, an integer as a float, credentials as secret Outputs."""
    inputs = {
        "backend": {
            "kind": BackendKind.S3Compatible, "bucket": "brrtrouter-velero-backups", "prefix": "brrtrouter-prod",
            "s3_url": "https://minio.backup.example.internal:9000", "s3_public_url": "https://minio.example.com",
            "s3_access_key_id": pulumi.Output.secret("stand-in-access-key"),
            "s3_secret_access_key": pulumi.Output.secret("stand-in-secret-key-0123456789"),
        },
        "repository_password": pulumi.Output.secret("stand-in-repository-password-0123456789"),
        "catalogue": onprem_catalogue(),
        "kube_context": "brrtrouter-prod-onprem",
        "name_prefix": "brrtrouter",
        "app_namespace": "brrtrouter",
        "rbac": "restricted",
        "location_available_timeout": 300.0,
    }
    inputs.update(changes)
    return inputs


def run_component(inputs: dict, **options):
    return run(lambda: Backups("backups", inputs), stack="prod-onprem", **options)


def kubernetes_objects(program_run) -> dict:
    return {(r.type, r.name): plain(r.inputs) for r in program_run.registrations
            if r.type.startswith("kubernetes:") or r.type == "pulumi:providers:kubernetes"}


def sorted_catalogue_file(folder) -> str:
    """onprem_catalogue() as a file, each section sorted by name as the component sorts its input."""
    document = {section: dict(sorted(entries.items())) for section, entries in onprem_catalogue().items()}
    path = folder / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_backups_makes_what_the_program_makes_for_the_same_settings(tmp_path):
    program = run_stack("prod-onprem", catalogue=sorted_catalogue_file(tmp_path), scheduleOverrides=[])
    component = run_component(onprem_inputs())
    assert kubernetes_objects(component) == kubernetes_objects(program)
    # Every child is the component's, and the component is the stack's.
    [backups] = component.of_type("velero:index:Backups")
    tops = [r for r in component.registrations if r.parent == backups.urn]
    assert {r.name for r in tops} >= {"cluster", "cluster-chart", "velero", "backup-location", "app-namespace"}
    assert all(r.parent for r in component.registrations if r is not backups)


def test_credentials_that_come_as_outputs_stay_secrets():
    component = run_component(onprem_inputs())
    password = next(r for r in component.of_type("kubernetes:core/v1:Secret")
                    if r.values["metadata"]["name"] == "velero-repo-credentials")
    assert password.secret("stringData")
    assert password.values["stringData"]["repository-password"] == "stand-in-repository-password-0123456789"
    credentials = next(r for r in component.of_type("kubernetes:core/v1:Secret")
                       if r.values["metadata"]["name"] == "velero-credentials")
    assert credentials.secret("stringData")
    assert "stand-in-secret-key-0123456789" in credentials.values["stringData"]["cloud"]


def test_plain_credentials_and_camel_case_nested_objects_are_read_too(tmp_path):
    # The program first: Outputs made before another run's event loop would hold that run up.
    program = run_stack("prod-onprem", catalogue=sorted_catalogue_file(tmp_path), scheduleOverrides=[])
    camel = onprem_inputs()
    camel["backend"] = {"kind": "s3Compatible", "bucket": "brrtrouter-velero-backups", "prefix": "brrtrouter-prod",
                        "s3Url": "https://minio.backup.example.internal:9000", "s3PublicUrl": "https://minio.example.com",
                        "s3AccessKeyId": "stand-in-access-key", "s3SecretAccessKey": "stand-in-secret-key-0123456789"}
    camel["repository_password"] = "stand-in-repository-password-0123456789"
    camel["catalogue"]["schedules"]["configuration"] = {"cron": "0 4 * * 0", "ttl": "8760h",
                                                       "resources": ["configmaps", "secrets"], "volumeData": False}
    assert kubernetes_objects(run_component(camel)) == kubernetes_objects(program)


def test_an_integer_that_arrives_as_a_float_is_an_integer():
    component = run_component(onprem_inputs(location_available_timeout=42.0))
    location = component.one("kubernetes:velero.io/v1:BackupStorageLocation")
    assert location.values["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "42"


def test_outputs_are_the_location_namespace_bucket_and_schedules():
    component = run_component(onprem_inputs())
    [backups] = component.of_type("velero:index:Backups")
    outputs = component.registered_outputs[backups.urn]
    assert outputs["veleroNamespace"] == "velero" and outputs["storageLocation"] == "default"
    assert outputs["bucket"] == "brrtrouter-velero-backups"
    assert outputs["schedules"] == sorted(onprem_catalogue()["schedules"])


def test_the_order_of_a_map_input_changes_nothing():
    # A YAML or Go program hands a map's keys over in any order.
    catalogue = onprem_catalogue()
    reordered = {section: dict(reversed(list(entries.items()))) for section, entries in catalogue.items()}
    assert kubernetes_objects(run_component(onprem_inputs(catalogue=reordered))) == \
        kubernetes_objects(run_component(onprem_inputs()))


def error_before_anything_is_registered(make) -> str:
    """The ConfigError of what `make` makes: components and their inputs made inside the run (an
    Output made outside it would outlive its event loop); nothing may be registered before it."""
    result = run(make, stack="prod-onprem", expect_error=True)
    assert result.registrations == [], [r.type for r in result.registrations]
    assert isinstance(result.error, ConfigError), result.error
    return str(result.error)


def config_error(make_inputs) -> str:
    """The ConfigError of a Backups with these inputs."""
    return error_before_anything_is_registered(lambda: Backups("backups", make_inputs()))


@pytest.mark.parametrize("change, named", [
    ({"backend": {"kind": "s3Compatible", "bucket": "Not_A_Bucket", "s3_url": "https://s3.example.com",
                  "s3_access_key_id": "a-key", "s3_secret_access_key": "a-secret"}}, "backend.bucket = 'Not_A_Bucket'"),
    ({"backend": {"kind": "aws", "bucket": "b-1", "aws_region": "eu-west-1", "aws_server_side_encryption": "AES256",
                  "aws_role_arn": "arn:aws:iam::123456789012:role/velero", "gcp_kms_key_name": "x"}},
     "backend.gcpKmsKeyName = 'x': expected no value: it applies to storageBackend gcp only"),
    ({"velero_image": "velero/velero:v1.10.0"}, "veleroImage = 'velero/velero:v1.10.0'"),
    ({"location_available_timeout": 7200}, "locationAvailableTimeout = '7200': expected a whole number from 0 to 3600"),
    ({"repository_password": "short"}, "repositoryPassword = '<secret>': expected at least 16 characters"),
    ({"chart": "charts/velero"}, "chart = 'charts/velero': expected an https:// Helm repository"),
    ({"catalogue": {"services": {"web": {}}, "schedules": {"nightly": {"cron": "0 2 * *", "ttl": "720h"}}}},
     "catalogue schedules.nightly.cron = '0 2 * *'"),
    # Which resources exist must be known when the program runs, not another resource's output.
    ({"namespace": "<an output>"}, "namespace = '<an output>': expected a value known when the program runs"),
])
def test_a_bad_input_is_named_with_its_value_and_what_was_expected_before_anything_is_registered(change, named):
    def make_inputs():
        return onprem_inputs(**{key: pulumi.Output.from_input("velero") if value == "<an output>" else value
                                for key, value in change.items()})

    assert named in config_error(make_inputs)


def test_missing_required_inputs_are_named():
    message = config_error(lambda: {"catalogue": onprem_catalogue()})
    assert "repositoryPassword = None: expected a value" in message
    assert "backend.kind = None" in message and "backend.bucket = None" in message


def test_a_short_password_from_an_output_fails_when_its_value_is_known():
    component = run_component(onprem_inputs(repository_password=pulumi.Output.secret("too-short")), expect_error=True)
    assert "repositoryPassword = '<secret>': expected at least 16 characters" in str(component.error)



def test_the_docs_show_the_inputs_and_outputs_of_the_schema():
    page = (PROJECT_DIR / "docs" / "use-in-your-program.md").read_text()
    shown = page.split("<!-- schema tables -->\n", 1)[1].split("<!-- end of schema tables -->", 1)[0]
    assert shown == reference_tables(package_schema())
    assert "| `kind` | BackendKind | yes |" in shown and "| `repositoryPassword` | string | yes |" in shown
