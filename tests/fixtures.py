"""Component arguments several test modules share."""

from components import MinioBackend

MINIO_BACKEND = MinioBackend(
    bucket="velero",
    region="us-east-1",
    s3_url="http://brrtrouter-minio:9000",
    public_url="http://localhost:9000",
    plugin_image="velero/velero-plugin-for-aws:v1.14.4",
    access_key="velero",
    secret_key="test-secret-key-0123456789",
)
