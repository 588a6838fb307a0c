"""The package's Pulumi schema, as `pulumi package get-schema` prints it (provider/schema.json).

The SDK infers the schema from the components' annotations; the CLI (3.274) prints it back through
its own schema types, which keep no description on an array's or map's item type, drop an empty
`dependencies` and add an empty `config`. This module does the same, so the golden file, the
in-process schema and the CLI's agree (tests/test_package_provider.py, tests/real/test_package_consumers.py).
"""

import json
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

from . import COMPONENTS, PACKAGE_NAME, package_version


def package_schema() -> dict[str, Any]:
    schema = json.loads(ComponentProvider(COMPONENTS, PACKAGE_NAME, None, package_version()).schema)
    if not schema.get("dependencies"):
        schema.pop("dependencies", None)
    schema.setdefault("config", {})
    return _without_item_descriptions(schema)


def _without_item_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_item_descriptions(
                    {k: v for k, v in item.items() if k != "description"}
                    if key in ("items", "additionalProperties") and isinstance(item, dict) else item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_without_item_descriptions(item) for item in value]
    return value
