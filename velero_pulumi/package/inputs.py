"""The inputs of the package's Backups component, as the Pulumi schema shows them to TypeScript,
YAML and Python programs.

What the SDK's schema inference (pulumi 3.272, provider/experimental/analyzer.py) allows shapes
these types: TypedDicts (the inputs arrive as a dict), no `from __future__ import annotations` (the
analyzer reads real annotations), no Union or Literal (hence plain strings, checked when the
component reads them, and one Enum), and no defaults or secrets in the schema (so each default is
in the docstring, and the component makes every credential a secret itself).
"""

from enum import Enum
from typing import NotRequired, TypedDict

import pulumi


class BackendKind(Enum):
    """Where the backups go. (The members are named as the schema shows them to TypeScript, Go and
    .NET: velero.BackendKind.S3Compatible.)"""

    Aws = "aws"
    """Amazon S3, through velero-plugin-for-aws."""
    Gcp = "gcp"
    """Google Cloud Storage, through velero-plugin-for-gcp."""
    Azure = "azure"
    """Azure Blob Storage, through velero-plugin-for-microsoft-azure."""
    S3Compatible = "s3Compatible"
    """Any S3-compatible store (MinIO, Ceph RGW, Cloudflare R2...), through the AWS plugin and s3Url."""


class Backend(TypedDict):
    """The object store the backups go to. Each kind reads only its own fields (aws*, gcp*, azure*,
    s3*); a field of another kind is an error."""

    kind: BackendKind
    """aws, gcp, azure or s3Compatible."""
    bucket: str
    """The bucket (S3, GCS, S3-compatible) or Blob container (Azure)."""
    prefix: NotRequired[str]
    """A path inside the bucket; default: none."""
    credentials_mode: NotRequired[str]
    """workloadIdentity (IRSA, GKE or Azure workload identity) or secret; default: secret for
    s3Compatible, workloadIdentity for the others."""
    credentials: NotRequired[pulumi.Input[str]]
    """The plugin's credentials file (credentialsMode secret, aws/gcp/azure); kept as a secret."""
    aws_region: NotRequired[str]
    """The bucket's region (aws)."""
    aws_kms_key_id: NotRequired[str]
    """A KMS key id, key ARN or alias the backups are encrypted with (aws)."""
    aws_server_side_encryption: NotRequired[str]
    """AES256 or aws:kms; aws needs this or awsKmsKeyId (production backups are encrypted)."""
    aws_role_arn: NotRequired[str]
    """The IAM role Velero assumes (IRSA, credentialsMode workloadIdentity)."""
    gcp_kms_key_name: NotRequired[str]
    """projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k> (gcp)."""
    gcp_service_account: NotRequired[str]
    """The Google service account Velero acts as (gcp; required with workloadIdentity)."""
    azure_resource_group: NotRequired[str]
    """The storage account's resource group (azure)."""
    azure_storage_account: NotRequired[str]
    """The storage account of the container (azure)."""
    azure_subscription_id: NotRequired[str]
    """The account's subscription, a UUID (azure)."""
    azure_client_id: NotRequired[str]
    """The managed identity's client id (azure, workloadIdentity)."""
    s3_url: NotRequired[str]
    """The store's endpoint as the cluster's pods reach it (s3Compatible)."""
    s3_public_url: NotRequired[str]
    """The store's URL as your laptop reaches it, for `velero backup logs` (s3Compatible)."""
    s3_region: NotRequired[str]
    """Default: us-east-1."""
    s3_force_path_style: NotRequired[bool]
    """Default: true."""
    s3_checksum_algorithm: NotRequired[str]
    """CRC32 (default), CRC32C, SHA1, SHA256, or "" for stores that reject checksums."""
    s3_ca_bundle: NotRequired[str]
    """The PEM CA of a store with a private certificate."""
    s3_insecure_skip_tls_verify: NotRequired[bool]
    """Skip the TLS check of the store (s3Compatible); prefer s3CaBundle."""
    s3_allow_plain_http: NotRequired[bool]
    """Set to true to state that an http:// s3Url outside the cluster is on purpose."""
    s3_access_key_id: NotRequired[pulumi.Input[str]]
    """The store's access key (s3Compatible); kept as a secret."""
    s3_secret_access_key: NotRequired[pulumi.Input[str]]
    """The store's secret key (s3Compatible); kept as a secret."""


class Service(TypedDict):
    """A service whose pods and volumes carry the label app=<name>."""

    data_size: NotRequired[str]
    """How much data it keeps (1Gi), for the backup plan."""
    daily_change: NotRequired[str]
    """The share of it that changes per day (20%), for the backup plan."""


class Hook(TypedDict):
    """A command Velero runs in a container of a service's pods, before or after their backup."""

    service: str
    """The service whose pods run it."""
    container: str
    """The container the command runs in."""
    phase: str
    """pre or post."""
    command: list[str]
    """The program and its arguments (no shell unless you call one)."""
    timeout: NotRequired[str]
    """A Go duration; default 30s."""
    on_error: NotRequired[str]
    """Fail (default) or Continue."""


class Schedule(TypedDict):
    """One velero.io/v1 Schedule."""

    cron: str
    """Five-field cron, in UTC."""
    ttl: str
    """How long its backups are kept, a Go duration (720h)."""
    services: NotRequired[list[str]]
    """Only these services' pods and volumes; default: the whole application namespace."""
    resources: NotRequired[list[str]]
    """Only these resource kinds; default: all."""
    cluster_resources: NotRequired[bool]
    """Include cluster-scoped resources; default: Velero decides."""
    volume_data: NotRequired[bool]
    """Copy pod volumes by file-system backup; default true."""
    hooks: NotRequired[list[str]]
    """Hooks of the catalogue to run; their services must be in the backup."""
    paused: NotRequired[bool]
    """A template that never runs on its own."""


class Catalogue(TypedDict):
    """What is backed up: the services, the hooks that make their backups consistent, and the
    schedules (the format of the project's config/catalogue.yaml)."""

    services: dict[str, Service]
    """By name: the pods and volumes with the label app=<name>."""
    hooks: NotRequired[dict[str, Hook]]
    """By name."""
    schedules: dict[str, Schedule]
    """By name: one Schedule each."""


class BackupsArgs(TypedDict):
    """Velero on a cluster that exists, its storage location and a catalogue's schedules. Without
    kubeconfig or kubeContext the component uses the kubernetes provider of its resource options."""

    backend: Backend
    """Where the backups go."""
    repository_password: pulumi.Input[str]
    """The password of Velero's kopia repository (16 characters or more); kept as a secret. Keep it:
    the file-system backups in the bucket open only with it."""
    catalogue: Catalogue
    """What is backed up, and when."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """The cluster's kubeconfig; kept as a secret."""
    kube_context: NotRequired[str]
    """A context of the ambient kubeconfig ($KUBECONFIG or ~/.kube/config)."""
    namespace: NotRequired[str]
    """Velero's namespace; default velero."""
    app_namespace: NotRequired[str]
    """The application's namespace (the schedules back it up; restores land there); default default."""
    name_prefix: NotRequired[str]
    """The label app.kubernetes.io/part-of of every object; default velero."""
    chart: NotRequired[str]
    """The Velero chart: an https:// Helm repository (with chartVersion), an oci:// reference, or the
    absolute path of a local chart; default the official repository."""
    chart_version: NotRequired[str]
    """The chart's version, with a Helm repository; default 12.1.0."""
    velero_image: NotRequired[str]
    """Velero's image, tagged vX.Y.Z; default the release this package is tested with."""
    plugin_image: NotRequired[str]
    """The backend's plugin image, of the minor that matches Velero's; default the tested release."""
    rbac: NotRequired[str]
    """clusterAdmin (default) or restricted."""
    monitoring: NotRequired[str]
    """annotations (default: Prometheus scrape annotations and an alert rules ConfigMap) or
    prometheusOperator (ServiceMonitor and PrometheusRule)."""
    location_available_timeout: NotRequired[int]
    """Seconds `pulumi up` waits for the location to be Available; 0 does not wait; default 300."""
    location_validation_frequency: NotRequired[str]
    """How often Velero checks that it reaches the location, a Go duration; default 1m."""
    node_agent_load_concurrency: NotRequired[int]
    """Volumes the node agent backs up at once per node; default 4."""
    item_block_worker_count: NotRequired[int]
    """Pods Velero's server backs up at once; default 4."""
    parallel_files_upload: NotRequired[int]
    """kopia's parallel file uploads per volume; 0 (default) leaves kopia's own."""
    data_mover_cpu: NotRequired[str]
    """CPU request and limit of each data mover pod (500m); default none."""
    data_mover_memory: NotRequired[str]
    """Memory request and limit of each data mover pod (512Mi); default none."""
    garbage_collection_frequency: NotRequired[str]
    """How often Velero deletes expired backups, a Go duration; default 1h."""
    repository_maintenance_frequency: NotRequired[str]
    """How often kopia's maintenance runs on repositories made from now on; default 1h."""
    alert_grace_period: NotRequired[str]
    """How long past a schedule's interval before its alert fires, a Go duration; default 1h."""
    grafana_dashboard_label: NotRequired[str]
    """The key=value label Grafana's dashboard sidecar selects ConfigMaps by; default grafana_dashboard=1."""


# The parts, for a program that composes them. The SDK's analyzer reads each field's description
# from its own class's source, so a field shared with BackupsArgs is declared again here (a unit
# test keeps each equal to BackupsArgs' field of the same name).


class InstallArgs(TypedDict):
    """Velero on a cluster that exists: the official chart, its node agent, and the repository
    password and the backend's credentials as Secrets. No location and no schedules: give its
    namespace and credentialsSecret outputs to a StorageLocation."""

    backend: Backend
    """Where the backups go."""
    repository_password: pulumi.Input[str]
    """The password of Velero's kopia repository (16 characters or more); kept as a secret. Keep it:
    the file-system backups in the bucket open only with it."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """The cluster's kubeconfig; kept as a secret."""
    kube_context: NotRequired[str]
    """A context of the ambient kubeconfig ($KUBECONFIG or ~/.kube/config)."""
    namespace: NotRequired[str]
    """Velero's namespace; default velero."""
    app_namespace: NotRequired[str]
    """The application's namespace (the schedules back it up; restores land there); default default."""
    name_prefix: NotRequired[str]
    """The label app.kubernetes.io/part-of of every object; default velero."""
    chart: NotRequired[str]
    """The Velero chart: an https:// Helm repository (with chartVersion), an oci:// reference, or the
    absolute path of a local chart; default the official repository."""
    chart_version: NotRequired[str]
    """The chart's version, with a Helm repository; default 12.1.0."""
    velero_image: NotRequired[str]
    """Velero's image, tagged vX.Y.Z; default the release this package is tested with."""
    plugin_image: NotRequired[str]
    """The backend's plugin image, of the minor that matches Velero's; default the tested release."""
    rbac: NotRequired[str]
    """clusterAdmin (default) or restricted."""
    monitoring: NotRequired[str]
    """annotations (default: Prometheus scrape annotations and an alert rules ConfigMap) or
    prometheusOperator (ServiceMonitor and PrometheusRule)."""
    node_agent_load_concurrency: NotRequired[int]
    """Volumes the node agent backs up at once per node; default 4."""
    item_block_worker_count: NotRequired[int]
    """Pods Velero's server backs up at once; default 4."""
    data_mover_cpu: NotRequired[str]
    """CPU request and limit of each data mover pod (500m); default none."""
    data_mover_memory: NotRequired[str]
    """Memory request and limit of each data mover pod (512Mi); default none."""
    garbage_collection_frequency: NotRequired[str]
    """How often Velero deletes expired backups, a Go duration; default 1h."""
    repository_maintenance_frequency: NotRequired[str]
    """How often kopia's maintenance runs on repositories made from now on; default 1h."""


class StorageLocationArgs(TypedDict):
    """Velero's default BackupStorageLocation, awaited until Velero finds it Available. Give it the
    Install's backend (whose credentials only the Install uses) and the kubernetes provider of its
    resource options."""

    backend: Backend
    """Where the backups go."""
    credentials_secret: NotRequired[pulumi.Input[str]]
    """The Secret that holds the backend's credentials: the Install's credentialsSecret output;
    none with workload identity."""
    namespace: NotRequired[str]
    """Velero's namespace; default velero."""
    name_prefix: NotRequired[str]
    """The label app.kubernetes.io/part-of of every object; default velero."""
    location_available_timeout: NotRequired[int]
    """Seconds `pulumi up` waits for the location to be Available; 0 does not wait; default 300."""
    location_validation_frequency: NotRequired[str]
    """How often Velero checks that it reaches the location, a Go duration; default 1m."""


class BackupScheduleArgs(TypedDict):
    """One velero.io/v1 Schedule, with the hooks it runs. Use the kubernetes provider of its
    resource options."""

    name: str
    """The Schedule's name in Velero (a DNS label); its backups are named after it."""
    schedule: Schedule
    """When it runs, what it backs up, and for how long its backups are kept."""
    hooks: NotRequired[dict[str, Hook]]
    """The hooks the schedule's hooks field names, by name."""
    storage_location: NotRequired[pulumi.Input[str]]
    """The location its backups go to: a StorageLocation's locationName output; default default."""
    namespace: NotRequired[str]
    """Velero's namespace; default velero."""
    app_namespace: NotRequired[str]
    """The application's namespace (the schedules back it up; restores land there); default default."""
    name_prefix: NotRequired[str]
    """The label app.kubernetes.io/part-of of every object; default velero."""
    parallel_files_upload: NotRequired[int]
    """kopia's parallel file uploads per volume; 0 (default) leaves kopia's own."""


class AlertsArgs(TypedDict):
    """Prometheus alert rules for a catalogue's schedules (a failed backup, a stale schedule, an
    unavailable location) and a Grafana dashboard. Use the kubernetes provider of its resource
    options; the application's namespace must exist (an Install makes sure of it)."""

    catalogue: Catalogue
    """What is backed up, and when."""
    namespace: NotRequired[str]
    """Velero's namespace; default velero."""
    app_namespace: NotRequired[str]
    """The application's namespace (the schedules back it up; restores land there); default default."""
    name_prefix: NotRequired[str]
    """The label app.kubernetes.io/part-of of every object; default velero."""
    monitoring: NotRequired[str]
    """annotations (default: Prometheus scrape annotations and an alert rules ConfigMap) or
    prometheusOperator (ServiceMonitor and PrometheusRule)."""
    alert_grace_period: NotRequired[str]
    """How long past a schedule's interval before its alert fires, a Go duration; default 1h."""
    grafana_dashboard_label: NotRequired[str]
    """The key=value label Grafana's dashboard sidecar selects ConfigMaps by; default grafana_dashboard=1."""
