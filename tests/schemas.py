"""Validating what the program registers against the real schemas.

Velero objects: the official CRDs (../shared/velero-crds, or $VELERO_CRDS_DIR), made strict the
way the API server prunes and rejects: an unknown field is an error unless the schema says
x-kubernetes-preserve-unknown-fields. Core objects: kubernetes-validate's schemas, strict.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from .harness import PROJECT_DIR

def _crds_dir() -> Path:
    """$VELERO_CRDS_DIR, else the shared copy beside the project (CI), else scripts/fetch-velero-crds' default."""
    if "VELERO_CRDS_DIR" in os.environ:
        return Path(os.environ["VELERO_CRDS_DIR"])
    shared = PROJECT_DIR.parent / "shared" / "velero-crds"
    return shared if shared.is_dir() else PROJECT_DIR / ".velero-crds"


CRDS_DIR = _crds_dir()


def _structural(schema: dict) -> dict:
    """An openAPIV3Schema node as a JSON Schema that refuses unknown fields."""
    result = {key: value for key, value in schema.items() if not key.startswith("x-kubernetes-") and key != "nullable"}
    if schema.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in result:
        result["type"] = [result["type"], "null"]
    if "properties" in schema:
        result["properties"] = {name: _structural(sub) for name, sub in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            result["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        result["additionalProperties"] = _structural(schema["additionalProperties"])
    if isinstance(schema.get("items"), dict):
        result["items"] = _structural(schema["items"])
    return result


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict]:
    if not CRDS_DIR.is_dir():
        raise FileNotFoundError(
            f"Velero CRDs not found at {CRDS_DIR}: run scripts/fetch-velero-crds or set VELERO_CRDS_DIR"
        )
    schemas = {}
    for path in sorted(CRDS_DIR.glob("*/*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schemas[(f"{group}/{version['name']}", kind)] = _structural(version["schema"]["openAPIV3Schema"])
    return schemas


def crd_kinds() -> set[tuple[str, str]]:
    return set(_crd_schemas())


def crd_errors(obj: dict) -> list[str]:
    """Why the API server would refuse this Velero object (empty when it would accept it)."""
    schema = _crd_schemas().get((obj.get("apiVersion"), obj.get("kind")))
    if schema is None:
        return [f"no CRD for {obj.get('apiVersion')} {obj.get('kind')}"]
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'.'.join(map(str, error.path)) or '<root>'}: {error.message}" for error in validator.iter_errors(obj))


def core_errors(obj: dict, kubernetes_version: str) -> list[str]:
    """Why Kubernetes would refuse this core object, by the strict schemas of kubernetes-validate."""
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.path)) or '<root>'}: {error.message}"]
    return []


def manifest(inputs: dict[str, Any]) -> dict:
    """A registered Kubernetes resource's inputs as the object it sends (Pulumi's own fields dropped)."""
    return {key: value for key, value in inputs.items() if not key.startswith("__")}


def chart_dir() -> Path:
    """The official Velero chart: $VELERO_CHART_DIR, else the shared copy beside the project (CI),
    else .velero-chart/velero (what the GitHub workflow downloads)."""
    if "VELERO_CHART_DIR" in os.environ:
        return Path(os.environ["VELERO_CHART_DIR"])
    shared = PROJECT_DIR.parent / "shared" / "charts" / "velero"
    return shared if shared.is_dir() else PROJECT_DIR / ".velero-chart" / "velero"


def helm_coalesce(defaults: Any, overrides: Any) -> Any:
    """Values as Helm merges a user's over the chart's values.yaml: maps recursively, anything else
    replaced, a null removing the key."""
    if not (isinstance(defaults, dict) and isinstance(overrides, dict)):
        return overrides
    merged = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = helm_coalesce(defaults.get(key), value)
    return merged


@functools.cache
def _chart() -> tuple[dict, dict]:
    folder = chart_dir()
    return (yaml.safe_load((folder / "values.yaml").read_text()),
            json.loads((folder / "values.schema.json").read_text()))


def chart_values_errors(values: dict) -> list[str]:
    """What Helm would refuse (values.schema.json over the merged values), and value names the
    chart does not have at all (a typo Helm would silently ignore)."""
    defaults, schema = _chart()
    merged = helm_coalesce(defaults, values)
    errors = [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(merged)]
    errors += [f"{key}: not a value of the chart" for key in values if key not in defaults]
    return errors
