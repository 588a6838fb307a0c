"""python -m velero_pulumi.package: print the package's Pulumi schema (provider/schema.json is this);
with --tables, its inputs and outputs as the Markdown tables of docs/use-in-your-program.md."""

import json
import sys

from .schema import package_schema, reference_tables

if sys.argv[1:] == ["--tables"]:
    sys.stdout.write(reference_tables(package_schema()))
else:
    sys.stdout.write(json.dumps(package_schema(), indent=2) + "\n")
