"""The dev stack's Docker layer alone, for the real tier: its data volumes, its Docker network and
MinIO, from the project's own settings and the same functions program.py builds them with.

`pulumi up --target` cannot deploy these parts alone: the engine still processes the KIND
cluster's kubernetes provider, whose kubeconfig comes from the untargeted kind command, and stops
(see docs/real-tier.md). The test puts this file in place of __main__.py in its copy of the project.
"""

import pulumi

from velero_pulumi.components.kind_cluster import cluster_network
from velero_pulumi.config import load_settings_from_pulumi
from program import data_volumes, minio_server

settings = load_settings_from_pulumi()
volumes = data_volumes(settings)
network = cluster_network("kind-network", settings.kind.network_name, settings.labels, pulumi.ResourceOptions())
minio = minio_server(settings, network.name)
pulumi.export("dataVolumes", volumes.names)
pulumi.export("minioEndpoint", minio.host_endpoint)
pulumi.export("minioContainer", minio.container_name)
pulumi.export("minioRootUser", minio.root_user)
pulumi.export("minioRootPassword", minio.root_password)
pulumi.export("veleroAccessKey", minio.velero_access_key)
pulumi.export("veleroSecretKey", minio.velero_secret_key)
