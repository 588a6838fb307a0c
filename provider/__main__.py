"""The component provider of the `velero` package: hosts velero_pulumi.package's components."""

from velero_pulumi.package import serve

if __name__ == "__main__":
    serve()
