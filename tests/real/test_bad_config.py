"""A bad stack config on the real engine: one clear message, and nothing created (the state holds
only Pulumi's own root Stack resource, which every update records)."""

from __future__ import annotations

from .stacks import init_committed_stack

KEY = "brrtrouter-backup:"


def created(engine, stack: str) -> list[str]:
    return [resource["type"] for resource in engine.resources(stack) if resource["type"] != "pulumi:pulumi:Stack"]


def test_an_unknown_key_is_the_programs_error_naming_key_value_and_the_known_keys(engine, chart_repository):
    engine.env.update(chart_repository.environment())
    init_committed_stack(engine, "dev", {"veleroChart": chart_repository.url, "minioPort": "9000"})
    result = engine.up("dev", check=False)
    assert result.code != 0
    assert f"{KEY}minioPort = '9000': no such key (known: namePrefix" in result.output
    assert "invalid configuration (1 problem(s))" in result.output
    assert "nothing was changed" in result.output
    assert "Traceback" not in result.output
    assert created(engine, "dev") == []


def test_the_chart_repository_without_network_is_the_programs_error(engine):
    # The default veleroChart, https://vmware-tanzu.github.io/helm-charts, and no network here.
    init_committed_stack(engine, "prod")
    result = engine.up("prod", check=False)
    assert result.code != 0
    assert f"{KEY}veleroChart = 'https://vmware-tanzu.github.io/helm-charts': expected a Helm repository " \
           "this machine can reach (GET https://vmware-tanzu.github.io/helm-charts/index.yaml failed" in result.output
    assert "set brrtrouter-backup:veleroChart to a local chart directory or .tgz" in result.output
    assert "Traceback" not in result.output
    assert created(engine, "prod") == []


def test_a_wrong_type_is_refused_by_the_cli_before_the_program_runs(engine, chart_repository):
    # Pulumi.yaml declares every key's type; the CLI checks it first, naming the key and the type.
    engine.env.update(chart_repository.environment())
    init_committed_stack(engine, "dev", {"veleroChart": chart_repository.url, "kindApiServerPort": "six"})
    result = engine.up("dev", check=False)
    assert result.code != 0
    assert "configuration key 'kindApiServerPort' must be of type 'integer'" in result.output
    assert created(engine, "dev") == []
