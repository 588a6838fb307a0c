"""CrossGuard policies for the brrtrouter-backup stacks: the rules a backup must follow to be real.

Each rule is a plain function over resource inputs (camelCase, as Pulumi hands them to policies)
that returns its violations; the policies below only adapt them to CrossGuard. Tests call both.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The project's own version rules: one copy of Velero's compatibility matrix.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config.catalogue import GO_DURATION, go_duration_seconds, keeps_pods  # noqa: E402
from config.versions import PLUGIN_MINOR_FOR_VELERO, split_image  # noqa: E402

SCHEDULE = "kubernetes:velero.io/v1:Schedule"
LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
SECRET = "kubernetes:core/v1:Secret"
DOCKER_VOLUME = "docker:index/volume:Volume"
CHART = "kubernetes:helm.sh/v4:Chart"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RETAINED_LABEL = "brrtrouter.io/retain-on-delete"
UNREACHABLE_FROM_CLUSTER = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "host.docker.internal"}
STATIC_KEY_MARKERS = ("aws_secret_access_key", '"private_key"', "AZURE_CLIENT_SECRET")
DEFAULT_TTL_BOUNDS = {"minTtl": "24h", "maxTtl": "8760h"}


# --- the rules ----------------------------------------------------------------------------------


def _template(schedule: Mapping[str, Any]) -> Mapping[str, Any]:
    return schedule.get("spec", {}).get("template", {})


def hook_schedule_violations(schedule: Mapping[str, Any]) -> list[str]:
    template = _template(schedule)
    if template.get("hooks", {}).get("resources") and not keeps_pods(template.get("includedResources")):
        return [
            f"schedule {_name(schedule)} has hooks but its includedResources {template['includedResources']} "
            "drop pods: Velero runs hooks only on pods that are in the backup"
        ]
    return []


def owner_reference_violations(schedule: Mapping[str, Any]) -> list[str]:
    if schedule.get("spec", {}).get("useOwnerReferencesInBackup") is True:
        return [f"schedule {_name(schedule)} sets useOwnerReferencesInBackup: deleting it would delete its backups"]
    return []


def ttl_violations(schedule: Mapping[str, Any], bounds: Mapping[str, str]) -> list[str]:
    ttl = _template(schedule).get("ttl")
    low, high = (go_duration_seconds(bounds[key]) for key in ("minTtl", "maxTtl"))
    if not isinstance(ttl, str) or not GO_DURATION.match(ttl):
        return [f"schedule {_name(schedule)} has no TTL (Go duration): Velero would keep its backups 30 days by default"]
    if not low <= go_duration_seconds(ttl) <= high:
        return [f"schedule {_name(schedule)} keeps backups {ttl}: outside {bounds['minTtl']}..{bounds['maxTtl']}"]
    return []


def _host(url: str) -> str:
    found = re.match(r"^[a-z]+://(\[[^\]]+\]|[^/:]+)", url)
    return found[1] if found else url


def s3_url_violations(location: Mapping[str, Any]) -> list[str]:
    url = location.get("spec", {}).get("config", {}).get("s3Url")
    if url and _host(url) in UNREACHABLE_FROM_CLUSTER:
        return [
            f"storage location {_name(location)} has s3Url {url}: {_host(url)} is not reachable from inside the "
            "cluster (use the object store's name on the cluster's network)"
        ]
    return []


def is_production(location: Mapping[str, Any]) -> bool:
    """A cloud bucket; an S3 URL means an S3-compatible store beside a dev cluster."""
    spec = location.get("spec", {})
    return spec.get("provider") in ("gcp", "azure") or (
        spec.get("provider") == "aws" and not spec.get("config", {}).get("s3Url")
    )


def encryption_violations(location: Mapping[str, Any]) -> list[str]:
    spec = location.get("spec", {})
    # Cloud Storage and Azure Storage encrypt every object at rest; S3 needs the stack to say how.
    if is_production(location) and spec.get("provider") == "aws":
        config = spec.get("config", {})
        if not config.get("kmsKeyId") and not config.get("serverSideEncryption"):
            return [f"storage location {_name(location)} writes to S3 without kmsKeyId or serverSideEncryption"]
    return []


def static_key_violations(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    resources = list(resources)
    if not any(kind == LOCATION and is_production(props) for kind, props in resources):
        return []
    violations = []
    for kind, props in resources:
        if kind != SECRET:
            continue
        contents = " ".join(str(value) for field in ("stringData", "data") for value in (props.get(field) or {}).values())
        if any(marker in contents for marker in STATIC_KEY_MARKERS):
            violations.append(
                f"secret {_name(props)} holds a static cloud key in production: use workload identity "
                "(credentialsMode workloadIdentity)"
            )
    return violations


def secret_output_violations(secret_outputs: Iterable[str], secret: Mapping[str, Any]) -> list[str]:
    missing = {"data", "stringData"} - set(secret_outputs)
    if missing:
        return [f"secret {_name(secret)} does not mark {', '.join(sorted(missing))} as secret outputs"]
    return []


def retained_volume_violations(volume: Mapping[str, Any]) -> list[str]:
    labels = {item.get("label"): item.get("value") for item in volume.get("labels") or []}
    if labels.get(RETAINED_LABEL) != "true":
        return [
            f"docker volume {volume.get('name')} is not marked retained ({RETAINED_LABEL}=true): "
            "`pulumi destroy` would delete its data"
        ]
    return []


def plugin_violations(velero_image: Optional[str], plugin_images: Iterable[str]) -> list[str]:
    if not velero_image:
        return []
    server = split_image(velero_image)
    wanted = PLUGIN_MINOR_FOR_VELERO.get(server.minor or "")
    if wanted is None:
        return [f"Velero image {velero_image} is not a release with a known plugin line"]
    return [
        f"plugin {image} does not match Velero {server.version}: Velero's matrix wants v{wanted}.x"
        for image in plugin_images
        if "velero-plugin-for-" in image and split_image(image).minor != wanted
    ]


# The Velero chart by name in a repository, or as a path or oci:// reference ending in it
# (a chart directory "velero", a package "velero-12.1.0.tgz").
VELERO_CHART = re.compile(r"(^|/)velero(-[0-9][0-9A-Za-z.+-]*\.tgz)?/?$")


def chart_plugin_violations(chart: Mapping[str, Any]) -> list[str]:
    if not VELERO_CHART.search(str(chart.get("chart") or "")):
        return []
    values = chart.get("values") or {}
    image = values.get("image") or {}
    velero_image = f"{image['repository']}:{image['tag']}" if image.get("repository") and image.get("tag") else None
    return plugin_violations(velero_image, [c.get("image", "") for c in values.get("initContainers") or []])


def deployment_plugin_violations(deployment: Mapping[str, Any]) -> list[str]:
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    servers = [c.get("image") for c in pod.get("containers") or [] if c.get("name") == "velero"]
    if not servers:
        return []
    return plugin_violations(servers[0], [c.get("image", "") for c in pod.get("initContainers") or []])


def _selects(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression.get("values", []):
            return False
        if operator == "NotIn" and value in expression.get("values", []):
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def covers(schedule: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    """Whether a running schedule copies this claim's volume with file-system backup."""
    spec, template = schedule.get("spec", {}), _template(schedule)
    metadata = claim.get("metadata", {})
    namespaces = template.get("includedNamespaces") or ["*"]
    return (
        not spec.get("paused")
        and template.get("defaultVolumesToFsBackup") is True
        and keeps_pods(template.get("includedResources"))
        and (metadata.get("namespace") in namespaces or "*" in namespaces)
        and _selects(template.get("labelSelector"), metadata.get("labels") or {})
    )


def uncovered_claim_violations(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    resources = list(resources)
    schedules = [props for kind, props in resources if kind == SCHEDULE]
    return [
        f"PVC {claim.get('metadata', {}).get('namespace')}/{_name(claim)} is not copied by any schedule with "
        "file-system backup: its data would not be backed up"
        for kind, claim in resources
        if kind == CLAIM and not any(covers(schedule, claim) for schedule in schedules)
    ]


def _name(obj: Mapping[str, Any]) -> str:
    return obj.get("metadata", {}).get("name", "?")


# --- CrossGuard ---------------------------------------------------------------------------------


def _resource_policy(
    name: str, description: str, kinds: tuple[str, ...], rule: Callable[[ResourceValidationArgs], list[str]], **extra
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in kinds:
            for violation in rule(args):
                report_violation(violation, args.urn)

    return ResourceValidationPolicy(name=name, description=description, validate=validate, **extra)


def _stack_policy(
    name: str, description: str, rule: Callable[[list[tuple[str, Mapping[str, Any]]]], list[str]]
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule([(resource.resource_type, resource.props) for resource in args.resources]):
            report_violation(violation)

    return StackValidationPolicy(name=name, description=description, validate=validate)


def _bounds(args: ResourceValidationArgs) -> Mapping[str, str]:
    return {**DEFAULT_TTL_BOUNDS, **{k: v for k, v in args.get_config().items() if k in DEFAULT_TTL_BOUNDS}}


POLICIES = [
    _stack_policy(
        "pvc-covered-by-file-system-backup",
        "Every PVC the stack creates is copied by at least one running schedule with file-system backup.",
        uncovered_claim_violations,
    ),
    _resource_policy(
        "hook-schedules-keep-pods",
        "Schedules with hooks keep pods in scope: Velero runs hooks only on pods in the backup.",
        (SCHEDULE,),
        lambda args: hook_schedule_violations(args.props),
    ),
    _resource_policy(
        "backup-ttl-within-bounds",
        "Every schedule keeps its backups between minTtl and maxTtl (default 24h..8760h).",
        (SCHEDULE,),
        lambda args: ttl_violations(args.props, _bounds(args)),
        config_schema=PolicyConfigSchema(
            properties={
                "minTtl": {"type": "string", "default": DEFAULT_TTL_BOUNDS["minTtl"]},
                "maxTtl": {"type": "string", "default": DEFAULT_TTL_BOUNDS["maxTtl"]},
            }
        ),
    ),
    _resource_policy(
        "s3-url-reachable-from-cluster",
        "A storage location's s3Url is reachable from inside the cluster (not localhost or host.docker.internal).",
        (LOCATION,),
        lambda args: s3_url_violations(args.props),
    ),
    _resource_policy(
        "production-storage-encrypted",
        "In production, S3 backups are encrypted with a KMS key or server-side encryption the stack names.",
        (LOCATION,),
        lambda args: encryption_violations(args.props),
    ),
    _stack_policy(
        "production-no-static-keys",
        "In production, no Secret holds a static cloud key: Velero uses workload identity.",
        static_key_violations,
    ),
    _resource_policy(
        "secrets-marked-secret",
        "Kubernetes Secrets mark data and stringData as secret outputs.",
        (SECRET,),
        lambda args: secret_output_violations(args.opts.additional_secret_outputs, args.props),
    ),
    _resource_policy(
        "data-volumes-retained",
        "Docker volumes holding data are retained on destroy (labelled by the helper that retains them).",
        (DOCKER_VOLUME,),
        lambda args: retained_volume_violations(args.props),
    ),
    _resource_policy(
        "schedules-do-not-own-backups",
        "No schedule sets useOwnerReferencesInBackup: deleting a schedule must not delete its backups.",
        (SCHEDULE,),
        lambda args: owner_reference_violations(args.props),
    ),
    _resource_policy(
        "plugin-matches-velero",
        "The Velero plugins are the release line Velero's compatibility matrix names for the server.",
        (CHART, DEPLOYMENT),
        lambda args: (chart_plugin_violations if args.resource_type == CHART else deployment_plugin_violations)(
            args.props
        ),
    ),
]


def policy_pack() -> PolicyPack:
    return PolicyPack(
        name="brrtrouter-backup-policies",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=POLICIES,
    )
