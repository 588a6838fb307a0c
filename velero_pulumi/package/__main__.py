"""python -m velero_pulumi.package: print the package's Pulumi schema (provider/schema.json is this)."""

import json
import sys

from pulumi.provider.experimental.component import ComponentProvider

from . import COMPONENTS, PACKAGE_NAME, package_version

schema = json.loads(ComponentProvider(COMPONENTS, PACKAGE_NAME, None, package_version()).schema)
sys.stdout.write(json.dumps(schema, indent=2) + "\n")
