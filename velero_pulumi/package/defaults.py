"""The Backups component's defaults, as the settings reader takes them (text, as the Pulumi CLI
hands a stack's config over).

The releases are the ones this package is tested with. The project's Pulumi.yaml declares the
same values for its own stacks; a unit test (tests/test_package_provider.py) keeps the two equal,
apart from OWN_DEFAULTS, which differ on purpose.
"""

RELEASES = {
    "veleroChart": "https://vmware-tanzu.github.io/helm-charts",
    "veleroChartVersion": "12.1.0",
    "veleroImage": "velero/velero:v1.18.1",
    "veleroAwsPluginImage": "velero/velero-plugin-for-aws:v1.14.3",
    "veleroGcpPluginImage": "velero/velero-plugin-for-gcp:v1.14.4",
    "veleroAzurePluginImage": "velero/velero-plugin-for-microsoft-azure:v1.14.3",
}

# A component on a cluster that exists, in a program of the user's: not the project's dev stack.
OWN_DEFAULTS = {
    "namePrefix": "velero",
    "appNamespace": "default",
    "clusterMode": "existing",
}

DEFAULTS = {
    **RELEASES,
    **OWN_DEFAULTS,
    "storageClassName": "standard",  # read, never used with an existing cluster
    "kubeconfig": "",
    "kubeContext": "",
    "backupPrefix": "",
    "credentialsMode": "workloadIdentity",
    "cloudCredentials": "",
    "awsRegion": "",
    "awsKmsKeyId": "",
    "awsServerSideEncryption": "",
    "awsRoleArn": "",
    "gcpKmsKeyName": "",
    "gcpServiceAccount": "",
    "azureResourceGroup": "",
    "azureStorageAccount": "",
    "azureSubscriptionId": "",
    "azureClientId": "",
    "s3Url": "",
    "s3PublicUrl": "",
    "s3Region": "us-east-1",
    "s3ForcePathStyle": "true",
    "s3ChecksumAlgorithm": "CRC32",
    "s3CaBundle": "",
    "s3InsecureSkipTLSVerify": "false",
    "s3AllowPlainHttp": "false",
    "s3AccessKeyId": "",
    "s3SecretAccessKey": "",
    "veleroNamespace": "velero",
    "veleroRbac": "clusterAdmin",
    "veleroRepositoryPassword": "",
    "locationAvailableTimeout": "300",
    "locationValidationFrequency": "1m",
    "itemBlockWorkerCount": "4",
    "nodeAgentLoadConcurrency": "4",
    "parallelFilesUpload": "0",
    "garbageCollectionFrequency": "1h",
    "repositoryMaintenanceFrequency": "1h",
    "dataMoverCpu": "",
    "dataMoverMemory": "",
    "monitoring": "annotations",
    "grafanaDashboardLabel": "grafana_dashboard=1",
    "alertGracePeriod": "1h",
}
