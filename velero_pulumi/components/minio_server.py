"""MinioServer: the S3 server outside the cluster that keeps Velero's backups."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_random as random

from .docker_objects import data_volume, docker_labels

API_PORT = 9000
CONSOLE_PORT = 9001
DATA_PATH = "/data"


@dataclass(frozen=True)
class MinioServerArgs:
    image: str
    container_name: str
    data_volume_name: str
    network_name: pulumi.Input[str]
    listen_address: str
    api_port: int
    console_port: int
    bucket: str
    region: str
    velero_user: str
    labels: Mapping[str, str] = field(default_factory=dict)


def bucket_policy(bucket: str) -> dict:
    """What Velero may do: list the bucket, and read, write and delete its objects. Nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }


def access_setup_script(bucket: str, policy_name: str) -> str:
    """Shell run inside the MinIO container (as `sh -s`) to create the bucket and Velero's user.

    Every step is idempotent, so it also runs on update and after the container was recreated
    on the retained data volume. Credentials arrive as environment variables, never as text here.
    """
    policy = json.dumps(bucket_policy(bucket), indent=2)
    return f"""set -eu
mc mb --ignore-existing local/{bucket}
cat > /tmp/{policy_name}.json <<'POLICY'
{policy}
POLICY
mc admin policy create local {policy_name} /tmp/{policy_name}.json
rm -f /tmp/{policy_name}.json
mc admin user add local "$VELERO_ACCESS_KEY" "$VELERO_SECRET_KEY"
if ! attached=$(mc admin policy attach local {policy_name} --user "$VELERO_ACCESS_KEY" 2>&1); then
  case "$attached" in
    *"already in effect"*) ;;
    *) echo "$attached" >&2; exit 1 ;;
  esac
fi
"""


class MinioServer(pulumi.ComponentResource):
    """MinIO in a container on the cluster's Docker network, with a bucket and a user for Velero.

    Inside the cluster it is reached by container name (`cluster_endpoint`): host.docker.internal
    does not resolve inside KIND on Linux. From the host it is reached on the published port
    (`host_endpoint`).
    """

    container_name: str
    host_endpoint: str
    cluster_endpoint: str
    console_url: str
    bucket: str
    region: str
    root_user: pulumi.Output[str]
    root_password: pulumi.Output[str]
    velero_access_key: pulumi.Output[str]
    velero_secret_key: pulumi.Output[str]
    # Done once the bucket and Velero's user exist.
    velero_access: command.local.Command

    def __init__(self, name: str, args: MinioServerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("brrtrouter:backup:MinioServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        root_user = random.RandomString(f"{name}-root-user", length=16, special=False, upper=False, opts=child)
        root_password = random.RandomPassword(f"{name}-root-password", length=40, special=False, opts=child)
        velero_secret_key = random.RandomPassword(f"{name}-velero-secret-key", length=40, special=False, opts=child)

        image = docker.RemoteImage(f"{name}-image", name=args.image, keep_locally=True, opts=child)
        # The bucket, and so every backup, lives here: it outlives `pulumi destroy`.
        data = data_volume(
            f"{name}-data", args.data_volume_name, {**args.labels, "app.kubernetes.io/name": "minio"}, parent=self
        )
        container = docker.Container(
            f"{name}-container",
            name=args.container_name,
            hostname=args.container_name,
            image=image.image_id,
            command=["server", DATA_PATH, "--address", f":{API_PORT}", "--console-address", f":{CONSOLE_PORT}"],
            envs=pulumi.Output.secret(
                pulumi.Output.all(root_user.result, root_password.result, args.region).apply(
                    lambda values: [
                        f"MINIO_ROOT_USER={values[0]}",
                        f"MINIO_ROOT_PASSWORD={values[1]}",
                        # The region S3 clients (Velero) must name; MINIO_REGION is its old, deprecated name.
                        f"MINIO_SITE_REGION={values[2]}",
                    ]
                )
            ),
            ports=[
                docker.ContainerPortArgs(internal=API_PORT, external=args.api_port, ip=args.listen_address),
                docker.ContainerPortArgs(internal=CONSOLE_PORT, external=args.console_port, ip=args.listen_address),
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path=DATA_PATH)],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=args.network_name, aliases=[args.container_name])
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "mc", "ready", "local"],
                interval="5s",
                timeout="5s",
                retries=12,
                start_period="5s",
            ),
            restart="unless-stopped",
            # `pulumi up` goes on only once MinIO answers, so the bucket step below can run.
            wait=True,
            wait_timeout=120,
            destroy_grace_seconds=30,
            labels=docker_labels(docker.ContainerLabelArgs, {**args.labels, "app.kubernetes.io/name": "minio"}),
            opts=child,
        )

        policy_name = f"{args.bucket}-readwrite"
        exec_in_container = (
            "docker exec -i -e MC_HOST_local -e VELERO_ACCESS_KEY -e VELERO_SECRET_KEY "
            f"{shlex.quote(args.container_name)} sh -s"
        )
        # A command rather than the minio provider: `mc mb --ignore-existing` keeps working when
        # the bucket survived a `pulumi destroy` on the retained volume, where a bucket resource
        # would fail with "bucket already exists" on the next `pulumi up`.
        self.velero_access = command.local.Command(
            f"{name}-velero-access",
            create=exec_in_container,
            update=exec_in_container,
            delete=(
                f"docker exec -e MC_HOST_local {shlex.quote(args.container_name)} "
                'mc admin user remove local "$VELERO_ACCESS_KEY" '
                "|| echo 'MinIO is not running: the Velero user stays in the retained data volume' >&2"
            ),
            stdin=access_setup_script(args.bucket, policy_name),
            environment={
                "MC_HOST_local": pulumi.Output.secret(
                    pulumi.Output.all(root_user.result, root_password.result).apply(
                        lambda values: f"http://{values[0]}:{values[1]}@localhost:{API_PORT}"
                    )
                ),
                "VELERO_ACCESS_KEY": args.velero_user,
                "VELERO_SECRET_KEY": velero_secret_key.result,
                # A new container re-runs the setup as an update. Not a trigger: the command SDK
                # replaces on trigger changes, and a create-before-delete replacement would end
                # with the old resource's delete removing the user the new one just created.
                "MINIO_CONTAINER_ID": container.id,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container], delete_before_replace=True),
        )

        host = "localhost" if args.listen_address in ("127.0.0.1", "0.0.0.0") else args.listen_address
        self.container_name = args.container_name
        self.host_endpoint = f"http://{host}:{args.api_port}"
        self.cluster_endpoint = f"http://{args.container_name}:{API_PORT}"
        self.console_url = f"http://{host}:{args.console_port}"
        self.bucket = args.bucket
        self.region = args.region
        self.root_user = pulumi.Output.secret(root_user.result)
        self.root_password = pulumi.Output.secret(root_password.result)
        self.velero_access_key = pulumi.Output.secret(args.velero_user)
        self.velero_secret_key = pulumi.Output.secret(velero_secret_key.result)
        self.register_outputs(
            {
                "hostEndpoint": self.host_endpoint,
                "clusterEndpoint": self.cluster_endpoint,
                "consoleUrl": self.console_url,
                "bucket": self.bucket,
                "veleroAccessKey": self.velero_access_key,
                "veleroSecretKey": self.velero_secret_key,
            }
        )
