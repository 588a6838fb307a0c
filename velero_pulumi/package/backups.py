"""Backups: Velero, its storage location and a catalogue's schedules on a cluster that exists, as
one component for TypeScript, YAML and Python programs.

It reads its inputs with the project's own settings reader (the same checks, the same defaults,
errors that name the input), then makes what the project's program makes for an existing-cluster
stack (velero_pulumi.backups), parented to itself.

Inputs reach a hosted component the way the SDK's provider hands them over, with two pitfalls
handled here: an integer may arrive as a float, and a nested object the SDK did not map (one
inside an Output) keeps its camelCase keys. A credential may arrive as an Output (a secret, or
another resource's value): it is kept as one and checked when its value is known.
"""

import dataclasses
from enum import Enum
from typing import Any, Mapping, Optional

import pulumi

from ..backups import existing_cluster_backups
from ..config.backends import PLUGIN_KEYS
from ..config.catalogue import parse_catalogue
from ..config.problems import ConfigError, Problems
from ..config.reader import KEYS, Reader, cli_text
from ..config.settings import REPOSITORY_PASSWORD_MIN_LENGTH, Settings, read_settings
from .defaults import DEFAULTS
from .inputs import Backend, BackupsArgs

TYPE = "velero:index:Backups"

# Input names (the schema's) -> the settings keys they set, where the two differ.
TOP_LEVEL_KEYS = {
    "repositoryPassword": "veleroRepositoryPassword",
    "namespace": "veleroNamespace",
    "chart": "veleroChart",
    "chartVersion": "veleroChartVersion",
    "rbac": "veleroRbac",
}
BACKEND_KEYS = {
    "kind": "storageBackend",
    "bucket": "backupBucket",
    "prefix": "backupPrefix",
    "credentials": "cloudCredentials",
    "s3InsecureSkipTlsVerify": "s3InsecureSkipTLSVerify",
}
NOT_SETTINGS = {"backend", "catalogue", "pluginImage"}
SECRET_KEYS = {"veleroRepositoryPassword", "kubeconfig", "cloudCredentials", "s3AccessKeyId", "s3SecretAccessKey"}
# What the reader sees of a credential that is an Output: present, long enough, a secret.
SECRET_STAND_IN = "<a secret input, checked when its value is known>"


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def schema_names(fields: Any) -> Any:
    """An input object's fields by their schema (camelCase) names, whichever form they came in."""
    return {camel_case(key): value for key, value in fields.items()} if isinstance(fields, dict) else fields


KNOWN_INPUTS = [camel_case(name) for name in BackupsArgs.__annotations__] + [
    f"backend.{camel_case(name)}" for name in Backend.__annotations__]


class InputReader(Reader):
    """The settings reader over a component's inputs: problems name the input, not a stack key."""

    def __init__(self, config: Mapping[str, str], names: Mapping[str, str], problems: Problems) -> None:
        self.names = names
        super().__init__("inputs", {f"inputs:{key}": value for key, value in config.items()}, problems,
                         secret_keys={self.key(key) for key in SECRET_KEYS}, defaults=DEFAULTS)

    def key(self, name: str) -> str:
        return self.names.get(name, name)


def as_text(problems: Problems, where: str, value: Any) -> Optional[str]:
    """An input as the reader takes it (the Pulumi CLI's text form of a config value)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # the SDK hands integers over as floats
    if isinstance(value, (bool, int, float, str)):
        return cli_text(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, pulumi.Output):
        problems.add(where, "<an output>", "a value known when the program runs (this input decides which "
                                           "resources exist), not another resource's output")
        return None
    problems.add(where, value, "a string, number or boolean")
    return None


@dataclasses.dataclass(frozen=True)
class ReadInputs:
    settings: Settings
    # Credentials that came as Outputs, by settings key: they replace the reader's stand-ins.
    secret_outputs: dict[str, pulumi.Output]


def read_inputs(args: Mapping[str, Any], project: str, stack: str) -> ReadInputs:
    """The component's settings; ConfigError listing every problem, before anything is registered."""
    problems = Problems()
    inputs = schema_names(dict(args))
    backend = schema_names(inputs.get("backend")) if isinstance(inputs.get("backend"), dict) else {}
    config: dict[str, str] = {}
    names: dict[str, str] = {}
    secret_outputs: dict[str, pulumi.Output] = {}
    entries = [(name, TOP_LEVEL_KEYS.get(name, name), value) for name, value in inputs.items() if name not in NOT_SETTINGS]
    entries += [(f"backend.{name}", BACKEND_KEYS.get(name, name), value) for name, value in backend.items()]
    kind = as_text(problems, "backend.kind", backend.get("kind")) if backend.get("kind") is not None else None
    if "pluginImage" in inputs and kind in PLUGIN_KEYS:
        entries.append(("pluginImage", PLUGIN_KEYS[kind], inputs["pluginImage"]))
    if kind == "s3Compatible" and "credentialsMode" not in backend:
        config["credentialsMode"] = "secret"  # the only mode an S3-compatible store has
    for where, key, value in entries:
        names[key] = where
        if key not in KEYS:
            problems.unknown(where, value, sorted(KNOWN_INPUTS))
            continue
        if key in SECRET_KEYS and isinstance(value, pulumi.Output):
            secret_outputs[key] = pulumi.Output.secret(value)
            config[key] = SECRET_STAND_IN
            continue
        text = as_text(problems, where, value)
        if text is not None:
            config[key] = text
    for key, where in (("veleroRepositoryPassword", "repositoryPassword"), ("storageBackend", "backend.kind"),
                       ("backupBucket", "backend.bucket")):
        names.setdefault(key, where)
        if key not in config:
            problems.add(where, None, "a value (a required input)")
    read = InputReader({**DEFAULTS, **config}, names, problems)
    catalogue = parse_catalogue(problems, "catalogue", catalogue_document(inputs.get("catalogue")))
    # No project folder: the component runs in the engine's plugin, not in the user's program's folder.
    settings = read_settings(read, project=project, stack=stack, catalogue=catalogue, project_dir=None,
                             cluster_required=False)
    return ReadInputs(settings, secret_outputs)


def catalogue_document(catalogue: Any) -> Any:
    """The catalogue input in the catalogue file's form, whose field names are the schema's; the
    names of services, hooks and schedules are the user's and stay as they are. Each section is
    sorted by name: a map input has no order (a YAML or Go program hands its keys over in any
    order), and the alert rules and the dashboard list the schedules in the catalogue's."""
    if not isinstance(catalogue, dict):
        return catalogue
    document = {}
    for section, entries in schema_names(catalogue).items():
        if isinstance(entries, dict):
            entries = {name: schema_names(entries[name]) for name in sorted(entries)}
        if entries is not None:
            document[section] = entries
    return document


def with_secret_outputs(read: ReadInputs) -> Settings:
    """The settings with each credential that came as an Output in place of its stand-in."""
    settings, outputs = read.settings, read.secret_outputs
    if "veleroRepositoryPassword" in outputs:
        password = outputs["veleroRepositoryPassword"].apply(checked_password)
        settings = dataclasses.replace(settings, velero=dataclasses.replace(settings.velero, repository_password=password))
    if "kubeconfig" in outputs:
        settings = dataclasses.replace(settings, existing_cluster=dataclasses.replace(
            settings.existing_cluster, kubeconfig=outputs["kubeconfig"]))
    backend = settings.backend
    if "cloudCredentials" in outputs:
        backend = dataclasses.replace(backend, credentials=outputs["cloudCredentials"])
    s3_keys = {field: outputs[key] for field, key in (("access_key", "s3AccessKeyId"), ("secret_key", "s3SecretAccessKey"))
               if key in outputs}
    if s3_keys and backend.s3 is not None:
        backend = dataclasses.replace(backend, s3=dataclasses.replace(backend.s3, **s3_keys))
    return dataclasses.replace(settings, backend=backend)


def checked_password(password: str) -> str:
    if len(password) < REPOSITORY_PASSWORD_MIN_LENGTH:
        raise ConfigError([f"repositoryPassword = '<secret>': expected at least {REPOSITORY_PASSWORD_MIN_LENGTH} characters"])
    return password


class Backups(pulumi.ComponentResource):
    """Velero on a cluster that exists (the official chart, its node agent, the repository password
    and credentials as Secrets), its storage location, awaited until Available, and one Schedule
    per entry of the catalogue, with alert rules and a Grafana dashboard."""

    velero_namespace: pulumi.Output[str]
    """Velero's namespace."""
    storage_location: pulumi.Output[str]
    """The BackupStorageLocation's name."""
    bucket: pulumi.Output[str]
    """The bucket (or Blob container) the backups go to."""
    schedules: pulumi.Output[list[str]]
    """The Schedules' names."""

    def __init__(self, name: str, args: BackupsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        settings = with_secret_outputs(read_inputs(args, pulumi.get_project(), pulumi.get_stack()))
        super().__init__(TYPE, name, {}, opts)
        outputs = existing_cluster_backups(settings, parent=self)
        self.velero_namespace = pulumi.Output.from_input(outputs["veleroNamespace"])
        self.storage_location = pulumi.Output.from_input(outputs["backupStorageLocation"])
        self.bucket = pulumi.Output.from_input(outputs["bucket"])
        self.schedules = pulumi.Output.from_input([schedule.name for schedule in settings.catalogue.schedules])
        self.register_outputs({"veleroNamespace": self.velero_namespace, "storageLocation": self.storage_location,
                               "bucket": self.bucket, "schedules": self.schedules})

