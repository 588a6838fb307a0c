"""The project's stack files as the real-tier tests use them."""

from __future__ import annotations

from pathlib import Path

from realtier.build.cache import shared_dir

from ..cli_config import USER_SECRETS, stack_file, stack_names

PRODUCTION_STACKS = [name for name in stack_names() if (stack_file(name).get("config") or {}).get(
    "brrtrouter-backup:clusterMode") == "existing"]
# The official chart 12.1.0 beside the project (../shared/charts), as an air-gapped user has it.
LOCAL_CHART = str(shared_dir() / "charts" / "velero")


def kube_contexts() -> tuple[str, ...]:
    """Every kubeContext a stack file names: the local cluster answers to all of them."""
    contexts = {(stack_file(name).get("config") or {}).get("brrtrouter-backup:kubeContext") for name in stack_names()}
    return tuple(sorted(context for context in contexts if context))


def write_production_kubeconfig(cluster) -> Path:
    """A kubeconfig for `cluster` that answers to every context the stack files name."""
    path = cluster.root / "production.kubeconfig"
    path.write_text(cluster.kubeconfig_text(kube_contexts()))
    return path


def type_and_name(urn: str) -> tuple[str, str]:
    """(type, name) of a resource URN: urn:pulumi:STACK::PROJECT::[parent$]TYPE::NAME."""
    _, _, types, name = urn.split("::", 3)
    return types.split("$")[-1], name


def init_committed_stack(engine, stack: str, config: dict | None = None, secrets: dict | None = None) -> None:
    """Create `stack` on the engine from its committed file, plus the secrets its user sets by hand
    (USER_SECRETS: a stack file cannot hold them) and the test's own config."""
    engine.init_stack(stack, config, {**USER_SECRETS.get(stack, {}), **(secrets or {})})
