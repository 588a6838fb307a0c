"""Reading the project's keys from the map of strings the Pulumi CLI hands the program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Optional

import yaml

from .problems import Problems

# Every key the program reads, with the type Pulumi.yaml declares for it (a test keeps the two
# in step). The defaults are in Pulumi.yaml only.
KEYS: Mapping[str, str] = {
    "namePrefix": "string",
    "catalogue": "string",
    "scheduleOverrides": "array",
    "appNamespace": "string",
    "storageClassName": "string",
    "clusterMode": "string",
    "kubeconfig": "string",
    "kubeContext": "string",
    "kindClusterName": "string",
    "kindNodeImage": "string",
    "kindApiServerPort": "integer",
    "kindPortMappings": "array",
    "storageBackend": "string",
    "backupBucket": "string",
    "backupPrefix": "string",
    "credentialsMode": "string",
    "cloudCredentials": "string",
    "minioImage": "string",
    "minioListenAddress": "string",
    "minioApiPort": "integer",
    "minioConsolePort": "integer",
    "minioBucket": "string",
    "minioRegion": "string",
    "minioVeleroUser": "string",
    "awsRegion": "string",
    "awsKmsKeyId": "string",
    "awsServerSideEncryption": "string",
    "awsRoleArn": "string",
    "gcpKmsKeyName": "string",
    "gcpServiceAccount": "string",
    "azureResourceGroup": "string",
    "azureStorageAccount": "string",
    "azureSubscriptionId": "string",
    "azureClientId": "string",
    "s3Url": "string",
    "s3PublicUrl": "string",
    "s3Region": "string",
    "s3ForcePathStyle": "boolean",
    "s3ChecksumAlgorithm": "string",
    "s3CaBundle": "string",
    "s3InsecureSkipTLSVerify": "boolean",
    "s3AllowPlainHttp": "boolean",
    "s3AccessKeyId": "string",
    "s3SecretAccessKey": "string",
    "veleroNamespace": "string",
    "veleroChart": "string",
    "veleroChartVersion": "string",
    "veleroImage": "string",
    "veleroAwsPluginImage": "string",
    "veleroGcpPluginImage": "string",
    "veleroAzurePluginImage": "string",
    "veleroRepositoryPassword": "string",
    "veleroRbac": "string",
    "locationAvailableTimeout": "integer",
    "locationValidationFrequency": "string",
    "itemBlockWorkerCount": "integer",
    "nodeAgentLoadConcurrency": "integer",
    "parallelFilesUpload": "integer",
    "dataMoverCpu": "string",
    "dataMoverMemory": "string",
    "garbageCollectionFrequency": "string",
    "repositoryMaintenanceFrequency": "string",
    "monitoring": "string",
    "alertGracePeriod": "string",
    "grafanaDashboardLabel": "string",
}


# Keys that were renamed: a stack file that still uses the old name is told the new one.
RENAMED: Mapping[str, str] = {"veleroChartRepository": "veleroChart"}


class Reader:
    """The project's keys, decoded by their declared type; every problem goes to `problems`."""

    def __init__(
        self,
        project: str,
        config: Mapping[str, str],
        problems: Problems,
        secret_keys: Collection[str] = (),
        defaults: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.project = project
        self.problems = problems
        self.secret_keys = set(secret_keys)
        self.defaults = dict(defaults or {})
        prefix = f"{project}:"
        self.raw = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
        for unknown in sorted(set(self.raw) - set(KEYS)):
            if unknown in RENAMED:
                problems.add(self.key(unknown), self.raw[unknown], f"the key {RENAMED[unknown]} (this one was renamed)")
            else:
                problems.unknown(self.key(unknown), self.raw[unknown], list(KEYS))

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"

    def get(self, name: str) -> Optional[Any]:
        """The value of a declared key, decoded by its declared type, or None after a problem."""
        if name not in self.raw:
            self.problems.add(
                self.key(name), None, "a value (Pulumi.yaml declares its default; run through the Pulumi CLI)"
            )
            return None
        raw = self.raw[name]
        if KEYS[name] != "array":
            return raw
        try:
            decoded = json.loads(raw)
        except (TypeError, ValueError):
            decoded = None
        if isinstance(decoded, list) and all(isinstance(item, str) for item in decoded):
            return decoded
        self.problems.add(self.key(name), raw, "a list of strings")
        return None

    def is_set(self, name: str) -> bool:
        """Whether the stack sets this key to something other than its Pulumi.yaml default."""
        return name in self.raw and self.raw[name] != self.defaults.get(name, "")

    def boolean(self, name: str) -> Optional[bool]:
        value = self.get(name)
        if value in ("true", "false"):
            return value == "true"
        if value is not None:
            self.problems.add(self.key(name), value, "true or false")
        return None

    def optional(self, name: str) -> Optional[str]:
        """A string key whose default is empty: None when unset."""
        value = self.get(name)
        return value or None

    def check(self, name: str, check: Callable[..., Any], *args: Any) -> Any:
        return check(self.problems, self.key(name), self.get(name), *args)

    def secret(self, name: str, min_length: int = 1) -> Optional[str]:
        """A key that may only hold a Pulumi secret: None when unset; its value is never echoed."""
        value = self.optional(name)
        if value is None:
            return None
        if self.key(name) not in self.secret_keys:
            self.problems.add(
                self.key(name), "<plain text>", f"a secret: pulumi config set --secret {name} ..."
            )
            return None
        if len(value) < min_length:
            self.problems.add(self.key(name), "<secret>", f"at least {min_length} characters")
            return None
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> Optional[str]:
        value = self.get(name)
        if value is not None and value not in choices:
            self.problems.add(self.key(name), value, " or ".join(choices))
            return None
        return value


def project_defaults(project_dir: Path) -> dict[str, str]:
    """The defaults Pulumi.yaml declares, as the CLI hands values over (text; lists as JSON)."""
    try:
        declared = (yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}).get("config") or {}
    except OSError:
        return {}
    return {name: cli_text(entry.get("default")) for name, entry in declared.items() if isinstance(entry, dict)}


def cli_text(value: Any) -> str:
    """A value as the Pulumi CLI hands a config value to the program: text, lists and maps as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else str(value)

