"""The configuration a stack's program receives from the Pulumi CLI, built the way the CLI builds it.

The CLI reads Pulumi.<stack>.yaml, puts un-namespaced keys in the project's namespace, applies
the defaults Pulumi.yaml declares, checks each value against the declared type, and hands the
program a map of strings: scalars as text, lists and objects as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from .harness import PROJECT, PROJECT_DIR

SIMPLE_TYPES = ("string", "integer", "boolean", "array")


class CliConfig(dict):
    """The config map, and which of its keys the CLI marks secret (the stack file's secure values)."""

    secret_keys: tuple[str, ...] = ()


class CliConfigError(Exception):
    """What the CLI itself would refuse before running the program."""


def project_file() -> dict:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())


def declared_keys() -> dict[str, dict]:
    return project_file().get("config") or {}


def stack_file(stack: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}


def stack_names() -> list[str]:
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in Path(PROJECT_DIR).glob("Pulumi.*.yaml"))


def namespaced(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def value_matches(declaration: Mapping[str, Any], value: Any) -> bool:
    """The CLI's type check of a config value against its declaration."""
    type_ = declaration.get("type")
    if type_ is None:
        return True
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and value.lstrip("-").isdigit()
    if type_ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    items = declaration.get("items")
    return isinstance(value, list) and items is not None and all(value_matches(items, item) for item in value)


def _decrypted(key: str, value: Any) -> Any:
    """What the CLI hands over for a `secure:` value: its plaintext, which only the stack's secrets
    provider can read. Tests get a stand-in of the same kind (pass the key as a secret key)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return f"decrypted-{key.split(':')[-1]}-stand-in-value"
    return value


# What a user sets with `pulumi config set --secret` on a stack, which its committed file cannot
# hold (a secret is stored only encrypted by the stack's own secrets provider); stand-ins, as
# secrets. Every stack needs its kopia repository password (./scripts/up sets dev's).
REPOSITORY_PASSWORD = {"veleroRepositoryPassword": "stand-in-repository-password-0123456789"}
USER_SECRETS = {
    "dev": REPOSITORY_PASSWORD,
    "prod": REPOSITORY_PASSWORD,
    "prod-gcp": REPOSITORY_PASSWORD,
    "prod-azure": REPOSITORY_PASSWORD,
    "prod-onprem": {**REPOSITORY_PASSWORD,
                    "s3AccessKeyId": "stand-in-access-key", "s3SecretAccessKey": "stand-in-secret-key-0123456789"},
}


def secure_keys(stack: str) -> tuple[str, ...]:
    """The keys a stack file holds as `secure:` values: the CLI marks them secret."""
    config = stack_file(stack).get("config") or {}
    return tuple(
        namespaced(key) for key, value in config.items() if isinstance(value, dict) and set(value) == {"secure"}
    )


def encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def cli_config(
    stack: str = "dev",
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    check_types: bool = True,
) -> CliConfig:
    """The config map for `stack`, with `overrides` (un-namespaced keys allowed) set on top.

    check_types=False skips the CLI's own type check, to hand the program what another
    channel (PULUMI_CONFIG, the Automation API) could pass it.
    """
    values = {
        namespaced(key): _decrypted(key, value) for key, value in (stack_file(stack).get("config") or {}).items()
    }
    user_secrets = {namespaced(key): value for key, value in USER_SECRETS.get(stack, {}).items()
                    if namespaced(key) not in values}  # what the stack file holds wins (as secure values do)
    values.update(user_secrets)
    values.update({namespaced(key): value for key, value in (overrides or {}).items()})
    for key, declaration in declared_keys().items():
        full_key = namespaced(key)
        if full_key not in values:
            if "default" not in declaration:
                raise CliConfigError(f"Stack '{stack}' is missing configuration value '{key}'")
            values[full_key] = declaration["default"]
        elif check_types and not value_matches(declaration, values[full_key]):
            raise CliConfigError(
                f"Stack '{stack}' with configuration key '{key}' must be of type '{declaration['type']}'"
            )
    config = CliConfig({key: encode(value) for key, value in values.items()})
    # A test's override of such a key is a plain `pulumi config set`: not a secret.
    overridden = {namespaced(key) for key in overrides or {}}
    config.secret_keys = (*secure_keys(stack), *(key for key in user_secrets if key not in overridden))
    return config
