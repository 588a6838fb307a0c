// Velero, its storage location and two schedules on a cluster that exists (your kubeconfig's
// current context), backups to an S3-compatible store. The credentials and the kopia repository
// password are Pulumi secrets: pulumi config set --secret accessKeyId ..., secretAccessKey ...,
// repositoryPassword "$(openssl rand -base64 36)" (keep it: the backups open only with it).
import * as pulumi from "@pulumi/pulumi";
import * as velero from "@brrtrouter/velero";

const config = new pulumi.Config();

const backups = new velero.Backups("backups", {
    repositoryPassword: config.requireSecret("repositoryPassword"),
    chart: config.require("chart"),
    locationAvailableTimeout: config.requireNumber("locationAvailableTimeout"),
    backend: {
        kind: velero.BackendKind.S3Compatible,
        bucket: config.require("bucket"),
        s3Url: config.require("s3Url"),
        s3AccessKeyId: config.requireSecret("accessKeyId"),
        s3SecretAccessKey: config.requireSecret("secretAccessKey"),
    },
    catalogue: {
        services: {
            orders: { dataSize: "1Gi", dailyChange: "10%" },
            web: {},
        },
        schedules: {
            "orders-data": { cron: "0 */6 * * *", ttl: "168h", services: ["orders"] },
            everything: { cron: "0 2 * * *", ttl: "720h" },
        },
    },
});

export const storageLocation = backups.storageLocation;
export const schedules = backups.schedules;
