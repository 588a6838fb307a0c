"""Pulumi.yaml and the stack files: what the CLI reads before the program runs."""

from __future__ import annotations

import pytest

from velero_pulumi.config import KEYS

from .cli_config import (
    SIMPLE_TYPES,
    CliConfigError,
    cli_config,
    declared_keys,
    namespaced,
    project_file,
    stack_file,
    stack_names,
    value_matches,
)


def test_project_is_python_with_a_pip_virtualenv():
    project = project_file()
    assert project["name"] == "brrtrouter-backup"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


def test_pulumi_yaml_declares_exactly_the_keys_the_program_reads():
    declared = declared_keys()
    assert {key: declaration["type"] for key, declaration in declared.items()} == dict(KEYS)


@pytest.mark.parametrize("key", sorted(KEYS))
def test_each_declaration_is_one_the_cli_accepts(key):
    declaration = declared_keys()[key]
    # The CLI's project schema: a simple type (no objects), arrays name their items, and a
    # default of the declared type. Every key has a default: defaults live in Pulumi.yaml only.
    assert set(declaration) <= {"type", "items", "description", "default", "secret"}
    assert declaration["type"] in SIMPLE_TYPES
    assert (declaration["type"] == "array") == ("items" in declaration)
    assert "default" in declaration and value_matches(declaration, declaration["default"])
    assert declaration.get("description"), f"{key} has no description"


@pytest.mark.parametrize("stack", stack_names())
def test_stack_file_uses_only_declared_keys_of_the_declared_types(stack):
    config = stack_file(stack).get("config") or {}
    project_keys = {namespaced(key) for key in declared_keys()}
    assert {namespaced(key) for key in config if namespaced(key).startswith("brrtrouter-backup:")} <= project_keys
    cli_config(stack)  # raises CliConfigError on a type the CLI would refuse


def test_the_cli_check_refuses_a_wrong_type():
    with pytest.raises(CliConfigError, match="minioApiPort' must be of type 'integer'"):
        cli_config("dev", {"minioApiPort": "nine thousand"})
    with pytest.raises(CliConfigError, match="kindPortMappings' must be of type 'array'"):
        cli_config("dev", {"kindPortMappings": "8080:30080"})


def test_the_dev_stack_file_holds_no_secret():
    config = stack_file("dev").get("config") or {}
    assert not any(isinstance(value, dict) and "secure" in value for value in config.values())


def test_secure_values_in_a_stack_file_reach_the_program_as_secrets(tmp_path, monkeypatch):
    from . import cli_config as module

    real = module.stack_file("dev")
    document = {"config": {**real["config"], "brrtrouter-backup:veleroRepositoryPassword": {"secure": "v1:abc:def"}}}
    monkeypatch.setattr(module, "stack_file", lambda stack: document)
    config = module.cli_config("dev")
    assert config["brrtrouter-backup:veleroRepositoryPassword"] == "decrypted-veleroRepositoryPassword-stand-in-value"
    assert module.secure_keys("dev") == config.secret_keys == ("brrtrouter-backup:veleroRepositoryPassword",)
    from .harness import run_main

    run = run_main(config)
    secret = next(r for r in run.of_type("kubernetes:core/v1:Secret") if r.values["metadata"]["name"] == "velero-repo-credentials")
    assert secret.values["stringData"] == {"repository-password": "decrypted-veleroRepositoryPassword-stand-in-value"}
    assert secret.secret("stringData")
