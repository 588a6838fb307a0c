# Day-2 commands for the BRRTRouter backup environment. `just` comes with the project:
# ./scripts/test (or ./scripts/up) installs it into .venv; run it as .venv/bin/just, or put
# .venv/bin on your PATH. `just --list` shows every recipe.
#
# Override a variable per call: just stack=prod context=my-eks backup-list

set shell := ["bash", "-euo", "pipefail", "-c"]

stack := "dev"
context := "kind-brrtrouter-dev"
velero_namespace := "velero"
minio_container := "brrtrouter-minio"
velero := "velero --kubecontext " + quote(context) + " --namespace " + quote(velero_namespace)

# List the recipes
default:
    @just --list

# Create or update the dev environment (checks the prerequisites first)
up *args:
    ./scripts/up {{args}}

# Show what `pulumi up` would change
preview *args:
    ./scripts/pulumi preview --stack {{quote(stack)}} {{args}}

# Tear the stack down; the data volumes and MinIO's volume (every backup) are kept
destroy *args:
    ./scripts/pulumi destroy --stack {{quote(stack)}} {{args}}
    @echo "Kept: the Docker volumes with the services' data and the backups (docker volume ls --filter label=app.kubernetes.io/managed-by=pulumi)."

# Run the tests
test *args:
    ./scripts/test {{args}}

# Start the MinIO container (after a reboot, or after stop-minio)
start-minio:
    docker start {{quote(minio_container)}}

# Stop the MinIO container (backups fail until it runs again)
stop-minio:
    docker stop {{quote(minio_container)}}

# Fetch the official CRDs of the pinned Velero release (fails on any HTTP error)
download-velero-crds dest="":
    ./scripts/fetch-velero-crds {{ if dest != "" { quote(dest) } else { "" } }}

# Back up now, from a schedule's template (name: <schedule>-manual-<UTC timestamp>)
backup-now schedule="brrtrouter-complete":
    {{velero}} backup create {{quote(schedule)}}-manual-"$(date -u +%Y%m%d-%H%M%S)" --from-schedule {{quote(schedule)}} --wait

# List the backups
backup-list:
    {{velero}} backup get

# Restore a backup, and say what went wrong if it is not Completed; mapping like
# brrtrouter-dev:brrtrouter-restored restores into another namespace
backup-restore name mapping="":
    KUBE_CONTEXT={{quote(context)}} VELERO_NAMESPACE={{quote(velero_namespace)}} ./scripts/backup-restore {{quote(name)}} {{ if mapping != "" { quote(mapping) } else { "" } }}

# Read the backups in the bucket now: after a new cluster (disaster recovery) Velero would list them
# only at its next sync, up to a minute away (it skips the location at its start, not yet validated)
sync-backups:
    kubectl --context {{quote(context)}} -n {{quote(velero_namespace)}} rollout restart deployment/velero
    kubectl --context {{quote(context)}} -n {{quote(velero_namespace)}} rollout status deployment/velero --timeout=180s

# Back up everything before an upgrade (the paused pre-upgrade schedule's template)
backup-before-upgrade:
    {{velero}} backup create pre-upgrade-"$(date -u +%Y%m%d-%H%M%S)" --from-schedule pre-upgrade --wait

# Restore a service's data in place on the dev cluster (newest backup that holds it; asks first, or --yes)
restore-service service backup="" *flags:
    KUBE_CONTEXT={{quote(context)}} VELERO_NAMESPACE={{quote(velero_namespace)}} ./scripts/restore-service {{quote(service)}} {{ if backup != "" { quote(backup) } else { "" } }} {{ if flags == "--yes" { "--yes" } else if flags == "" { "" } else { error("restore-service takes only --yes after the backup") } }}

# Restore a service's latest backup into a scratch namespace, check its pods, report, clean up
restore-drill service:
    KUBE_CONTEXT={{quote(context)}} VELERO_NAMESPACE={{quote(velero_namespace)}} ./scripts/restore-drill {{quote(service)}}

# Check prerequisites, MinIO, the cluster, the storage location and the last backup of every schedule
doctor:
    KUBE_CONTEXT={{quote(context)}} VELERO_NAMESPACE={{quote(velero_namespace)}} ./scripts/doctor

# The backup plan: RPO, retention, backups kept and storage per schedule
plan:
    ./scripts/python scripts/plan.py --stack {{quote(stack)}}
