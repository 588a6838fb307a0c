"""CrossGuard policies for the brrtrouter-backup stacks: the rules a backup must follow to be real.

Each rule is a plain function over resource inputs (camelCase, as Pulumi hands them to policies)
that returns its violations; the policies below only adapt them to CrossGuard. Tests call both.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

# The project's own version rules: one copy of Velero's compatibility matrix.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from velero_pulumi.config.catalogue import GO_DURATION, go_duration_seconds, keeps_pods  # noqa: E402
from velero_pulumi.config.versions import PLUGIN_MINOR_FOR_VELERO, split_image  # noqa: E402

SCHEDULE = "kubernetes:velero.io/v1:Schedule"
LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
SECRET = "kubernetes:core/v1:Secret"
DOCKER_VOLUME = "docker:index/volume:Volume"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INSTALL = "brrtrouter:backup:VeleroInstall"
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
            f"schedule {_name(schedule)} has hooks but its includedResources {list(template['includedResources'])} "
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


ALLOW_PLAIN_HTTP_ANNOTATION = "brrtrouter.io/allow-plain-http"
CLUSTER_DOMAINS = (".svc", ".svc.cluster.local", ".cluster.local")


def _inside_the_cluster_or_machine(host: str) -> bool:
    """Loopback, a cluster DNS name, or a single-label name (a Service, or a container on the
    cluster's Docker network): traffic that never crosses a network of its own."""
    host = host.strip("[]").lower()
    if host in ("localhost", "::1", "host.docker.internal") or host.startswith("127."):
        return True
    return "." not in host or host.endswith(CLUSTER_DOMAINS)


def plain_http_violations(location: Mapping[str, Any]) -> list[str]:
    url = location.get("spec", {}).get("config", {}).get("s3Url")
    if not url or not url.startswith("http://") or _inside_the_cluster_or_machine(_host(url)):
        return []
    annotations = location.get("metadata", {}).get("annotations") or {}
    if annotations.get(ALLOW_PLAIN_HTTP_ANNOTATION) == "true":
        return []
    return [
        f"storage location {_name(location)} has s3Url {url}: plain http to {_host(url)}, outside the cluster, "
        "sends every backup and the store's credentials unencrypted over the network; use https:// "
        "(s3CaBundle for a private CA), or say the network is trusted with s3AllowPlainHttp: true"
    ]


def is_production(location: Mapping[str, Any]) -> bool:
    """A cloud bucket (S3, GCS, Azure); a location with an s3Url is an S3-compatible store (MinIO
    beside a dev cluster, or a store of your own), whose encryption and keys are its own."""
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


def credential_secrets(resources: list[tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The Secrets Velero reads cloud credentials from: named by a storage location
    (spec.credential) or by the install (the chart's credentials.existingSecret)."""
    names = set()
    for kind, props in resources:
        if kind == LOCATION and (props.get("spec", {}).get("credential") or {}).get("name"):
            names.add(props["spec"]["credential"]["name"])
        elif kind == INSTALL and props.get("credentialsSecret"):
            names.add(props["credentialsSecret"])
    return names


def _secret_text(secret: Mapping[str, Any]) -> str:
    """Every value of a Secret as text (data decoded from base64)."""
    values = [str(value) for value in (secret.get("stringData") or {}).values()]
    for value in (secret.get("data") or {}).values():
        try:
            values.append(base64.b64decode(str(value)).decode(errors="replace"))
        except (ValueError, TypeError):
            values.append(str(value))
    return " ".join(values)


def static_key_violations(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    resources = list(resources)
    if not any(kind == LOCATION and is_production(props) for kind, props in resources):
        return []
    # Decided from names, known at preview: only the credentials Velero is given are read (the
    # generated repository password, unknown until `pulumi up`, is not a cloud key).
    credentials = credential_secrets(resources)
    return [
        f"secret {_name(props)} holds a static cloud key in production: use workload identity "
        "(credentialsMode workloadIdentity)"
        for kind, props in resources
        if kind == SECRET and _name(props) in credentials
        and any(marker in _secret_text(props) for marker in STATIC_KEY_MARKERS)
    ]


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


def install_plugin_violations(install: Mapping[str, Any]) -> list[str]:
    """The Velero image and plugins a VeleroInstall declares (its outputs: the chart's values)."""
    return plugin_violations(install.get("veleroImage"), install.get("pluginImages") or [])


def deployment_plugin_violations(deployment: Mapping[str, Any]) -> list[str]:
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    servers = [c.get("image") for c in pod.get("containers") or [] if c.get("name") == "velero"]
    if not servers:
        return []
    return plugin_violations(servers[0], [c.get("image", "") for c in pod.get("initContainers") or []])


def stack_plugin_violations(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """What the program gives the chart (known at preview), and what the chart rendered, when it has."""
    violations = []
    for kind, props in resources:
        if kind == INSTALL:
            violations += install_plugin_violations(props)
        elif kind == DEPLOYMENT:
            violations += deployment_plugin_violations(props)
    return violations


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
    schedules = [props for kind, props in resources if kind == SCHEDULE and _known(props, "spec", "a Schedule")]
    return [
        f"PVC {claim['metadata'].get('namespace')}/{_name(claim)} is not copied by any schedule with "
        "file-system backup: its data would not be backed up"
        for kind, claim in resources
        if kind == CLAIM and _known(claim, "metadata", "a PersistentVolumeClaim")
        and not any(covers(schedule, claim) for schedule in schedules)
    ]


class Undecided(Exception):
    """A rule cannot decide on what it was given during a preview: it decides at `pulumi up`."""


def _known(props: Mapping[str, Any], field: str, what: str) -> bool:
    # Outputs of a resource the update has yet to create can be empty during a preview.
    if field not in props:
        raise Undecided(f"{what}'s {field} is not known during this preview")
    return True


def _name(obj: Mapping[str, Any]) -> str:
    return obj.get("metadata", {}).get("name", "?")


# --- CrossGuard ---------------------------------------------------------------------------------
#
# During a preview some values are not known yet: the engine hands a policy an "unknown" where a
# value depends on something the update has yet to create, and stack policies get each
# resource's outputs, which are empty for resources of a provider that cannot be configured yet
# (the dev stack's cluster does not exist before `pulumi up`). The pack never reads an unknown as
# a value, and never fails or passes on one silently:
# - it decides from what is known: resource inputs, names and keys. Stack policies read each
#   resource's inputs, which this same pack saw a moment earlier in its resource validations
#   (the engine analyzes every resource before the stack, in one analyzer process);
# - where a rule still meets an unknown, the policy does not decide at preview, and the advisory
#   policy `decided-at-up` says which policy and which value; at `pulumi up` every value is known
#   and the policy decides then.

_INPUTS: dict[str, Mapping[str, Any]] = {}  # urn -> the inputs its resource validation saw
_UNDECIDED: dict[tuple[str, str], str] = {}  # (policy, urn or "") -> what it could not know


def _remember(args: ResourceValidationArgs) -> None:
    _INPUTS[args.urn] = args.props


def _undecided_reason(error: Exception) -> str:
    return error.message if isinstance(error, UnknownValueError) else str(error)


def _resource_policy(
    name: str, description: str, kinds: tuple[str, ...], rule: Callable[[ResourceValidationArgs], list[str]], **extra
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        _remember(args)
        if args.resource_type not in kinds:
            return
        _UNDECIDED.pop((name, args.urn), None)
        try:
            violations = rule(args)
        except (UnknownValueError, Undecided) as error:
            _UNDECIDED[(name, args.urn)] = f"{args.resource_type} {args.name}: {_undecided_reason(error)}"
            return
        for violation in violations:
            report_violation(violation, args.urn)

    return ResourceValidationPolicy(name=name, description=description, validate=validate, **extra)


def stack_props(resource: PolicyResource) -> Mapping[str, Any]:
    """What a stack policy checks of a resource: the inputs it was declared with (known at preview
    where its outputs are not), or its outputs for a component of this project (its registered
    outputs: components declare no inputs)."""
    if resource.resource_type.startswith("brrtrouter:"):
        return resource.props
    return _INPUTS.get(resource.urn, resource.props)


def _stack_policy(
    name: str, description: str, rule: Callable[[list[tuple[str, Mapping[str, Any]]]], list[str]]
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _UNDECIDED.pop((name, ""), None)
        try:
            violations = rule([(resource.resource_type, stack_props(resource)) for resource in args.resources])
        except (UnknownValueError, Undecided) as error:
            _UNDECIDED[(name, "")] = _undecided_reason(error)
            return
        for violation in violations:
            report_violation(violation)

    return StackValidationPolicy(name=name, description=description, validate=validate)


def report_undecided(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for (policy, urn), what in sorted(_UNDECIDED.items()):
        report_violation(f"{policy} decides at `pulumi up`, not in this preview: {what}", urn or None)


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
        "plain-http-only-inside-the-cluster",
        "An http:// s3Url outside the cluster and the machine is refused unless the stack says the network is "
        "trusted (s3AllowPlainHttp: true): backups and credentials would cross it unencrypted.",
        (LOCATION,),
        lambda args: plain_http_violations(args.props),
    ),
    _resource_policy(
        "production-storage-encrypted",
        "In production, S3 backups are encrypted with a KMS key or server-side encryption the stack names.",
        (LOCATION,),
        lambda args: encryption_violations(args.props),
    ),
    _stack_policy(
        "production-no-static-keys",
        "In production, no Secret Velero takes its cloud credentials from holds a static key: Velero uses workload identity.",
        static_key_violations,
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
    _stack_policy(
        "plugin-matches-velero",
        "The Velero plugins are the release line Velero's compatibility matrix names for the server: those the "
        "program gives the chart, and those of the rendered Velero Deployment.",
        stack_plugin_violations,
    ),
    # Last: it reports what the policies above could not decide in this preview.
    StackValidationPolicy(
        name="decided-at-up",
        description="Says which policy could not decide during a preview (a value is not known until the update) "
                    "and decides at `pulumi up` instead.",
        validate=report_undecided,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]


def policy_pack() -> PolicyPack:
    return PolicyPack(
        name="brrtrouter-backup-policies",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=POLICIES,
    )
