"""The real tier: a Pulumi engine, a local Kubernetes control plane, MinIO and Velero, built here
from pinned sources (toolchain), started on loopback (localstack), and driven like a user would
(engine). Standard library only, so it runs before the project's virtualenv exists."""
