"""Reading a hosted component's inputs with the project's own settings reader: the same checks,
the same defaults, errors that name the input (backend.bucket = ...), every problem before
anything is registered.

Inputs reach a hosted component the way the SDK's provider hands them over, with two pitfalls
handled here: an integer may arrive as a float, and a nested object the SDK did not map (one
inside an Output) keeps its camelCase keys. A credential may arrive as an Output (a secret, or
another resource's value): it is kept as one and checked when its value is known.
"""

import dataclasses
from enum import Enum
from typing import Any, Collection, Mapping, Optional

import pulumi

from ..config import values
from ..config.backends import PLUGIN_KEYS
from ..config.problems import ConfigError, Problems
from ..config.reader import KEYS, Reader, cli_text
from ..config.settings import REPOSITORY_PASSWORD_MIN_LENGTH, Settings
from .defaults import DEFAULTS
from .inputs import Backend

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
# Inputs a component reads itself: not settings keys.
OWN_INPUTS = {"backend", "catalogue", "pluginImage", "name", "schedule", "hooks", "storageLocation", "credentialsSecret"}
# What Velero's install cannot do without (settings keys; the inputs that set them name them).
REQUIRED_INPUTS = ("veleroRepositoryPassword", "storageBackend", "backupBucket")
SECRET_KEYS = {"veleroRepositoryPassword", "kubeconfig", "cloudCredentials", "s3AccessKeyId", "s3SecretAccessKey"}
# What the reader sees of a credential that is an Output: present, long enough, a secret.
SECRET_STAND_IN = "<a secret input, checked when its value is known>"


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def schema_names(fields: Any) -> Any:
    """An input object's fields by their schema (camelCase) names, whichever form they came in."""
    return {camel_case(key): value for key, value in fields.items()} if isinstance(fields, dict) else fields


def known_inputs(fields: type) -> list[str]:
    """The input names of a component's args (a TypedDict), the backend's fields included."""
    names = [camel_case(name) for name in fields.__annotations__]
    if "backend" in fields.__annotations__:
        names += [f"backend.{camel_case(name)}" for name in Backend.__annotations__]
    return names


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
class ComponentInputs:
    read: InputReader
    # Every input by its schema (camelCase) name: those in OWN_INPUTS are the component's to read.
    inputs: dict[str, Any]
    # Credentials that came as Outputs, by settings key: they replace the reader's stand-ins.
    secret_outputs: dict[str, pulumi.Output]

    @property
    def problems(self) -> Problems:
        return self.read.problems


def component_inputs(args: Mapping[str, Any], fields: type, required: Collection[str] = ()) -> ComponentInputs:
    """A component's inputs as settings: `fields` is its args TypedDict (an input it does not
    declare is an error), `required` the settings keys (of its inputs) it cannot do without."""
    problems = Problems()
    known = known_inputs(fields)
    inputs = schema_names(dict(args))
    backend = schema_names(inputs.get("backend")) if isinstance(inputs.get("backend"), dict) else {}
    config: dict[str, str] = {}
    # Every settings key the component's inputs set -> its input's name, for its problems.
    names = {BACKEND_KEYS.get(name[len("backend."):], name[len("backend."):]) if name.startswith("backend.")
             else TOP_LEVEL_KEYS.get(name, name): name for name in known}
    secret_outputs: dict[str, pulumi.Output] = {}
    entries = []
    for name, value in inputs.items():
        if name not in known:
            problems.unknown(name, value, sorted(known))
        elif name not in OWN_INPUTS:
            entries.append((name, TOP_LEVEL_KEYS.get(name, name), value))
    for name, value in backend.items():
        if f"backend.{name}" not in known:
            problems.unknown(f"backend.{name}", value, sorted(known))
        else:
            entries.append((f"backend.{name}", BACKEND_KEYS.get(name, name), value))
    kind = as_text(problems, "backend.kind", backend.get("kind")) if backend.get("kind") is not None else None
    if "pluginImage" in inputs and kind in PLUGIN_KEYS:
        entries.append(("pluginImage", PLUGIN_KEYS[kind], inputs["pluginImage"]))
    if kind == "s3Compatible" and "credentialsMode" not in backend:
        config["credentialsMode"] = "secret"  # the only mode an S3-compatible store has
    for where, key, value in entries:
        names[key] = where
        if key not in KEYS:
            problems.unknown(where, value, sorted(known))
            continue
        if key in SECRET_KEYS and isinstance(value, pulumi.Output):
            secret_outputs[key] = pulumi.Output.secret(value)
            config[key] = SECRET_STAND_IN
            continue
        text = as_text(problems, where, value)
        if text is not None:
            config[key] = text
    for key in required:
        if key not in config:
            problems.add(names[key], None, "a value (a required input)")
    return ComponentInputs(InputReader({**DEFAULTS, **config}, names, problems), inputs, secret_outputs)


def catalogue_document(catalogue: Any) -> Any:
    """A catalogue input in the catalogue file's form, whose field names are the schema's; the
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


def name_input(problems: Problems, where: str, value: Any, default: Optional[str] = None) -> Optional[pulumi.Input[str]]:
    """An object's name that may come from another component's output (the Install's
    credentialsSecret, the StorageLocation's locationName): checked now when it is a value, when
    it is known when it is an output."""
    if value is None:
        return default
    if isinstance(value, pulumi.Output):
        return value.apply(lambda known: checked_name(where, known))
    return values.dns_label(problems, where, value)


def checked_name(where: str, name: Any) -> str:
    problems = Problems()
    checked = values.dns_label(problems, where, name)
    problems.raise_if_any()
    return checked


def with_secret_outputs(settings: Settings, outputs: Mapping[str, pulumi.Output]) -> Settings:
    """The settings with each credential that came as an Output in place of its stand-in."""
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
