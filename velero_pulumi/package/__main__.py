"""python -m velero_pulumi.package: print the package's Pulumi schema (provider/schema.json is this)."""

import json
import sys

from .schema import package_schema

sys.stdout.write(json.dumps(package_schema(), indent=2) + "\n")
