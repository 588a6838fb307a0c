"""The package's Pulumi schema, as `pulumi package get-schema` prints it (provider/schema.json).

The SDK infers the schema from the components' annotations; the CLI (3.274) prints it back through
its own schema types, which keep no description on an array's or map's item type, drop an empty
`dependencies` and add an empty `config`. This module does the same, so the golden file, the
in-process schema and the CLI's agree (tests/test_package_provider.py, tests/real/test_package_consumers.py).
"""

import gc
import json
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

from . import COMPONENTS, PACKAGE_NAME, PACKAGE_NAMESPACE, package_version


def package_schema() -> dict[str, Any]:
    # The SDK reads descriptions with ast.parse and drops them silently when it raises. On CPython
    # 3.11 it raises "AST constructor recursion depth mismatch" when the garbage collector runs a
    # finalizer that parses too in the middle (an unobserved failed asyncio Future logs its
    # traceback, whose carets 3.11 finds with ast): collect first, and not during.
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        schema = json.loads(ComponentProvider(COMPONENTS, PACKAGE_NAME, PACKAGE_NAMESPACE, package_version()).schema)
    finally:
        if collecting:
            gc.enable()
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


def reference_tables(schema: dict[str, Any]) -> str:
    """The inputs and outputs of each component and the fields of each type, as Markdown tables
    (docs/use-in-your-program.md holds them between its `schema tables` markers)."""
    sections = []
    for token, resource in schema["resources"].items():
        required = set(resource.get("requiredInputs", []))
        sections.append(f"`{token}`: {_text(resource.get('description'))}")
        sections.append(_table(f"`{token}` inputs", resource["inputProperties"], required))
        sections.append(_table(f"`{token}` outputs", resource["properties"], set(resource.get("required", []))))
    for token, spec in schema["types"].items():
        if "enum" in spec:
            rows = [f"| `{member['value']}` | `{member['name']}` | {_text(member.get('description'))} |"
                    for member in spec["enum"]]
            sections.append("\n".join([f"`{token}` (enum): {_text(spec.get('description'))}", "",
                                       "| value | name | description |", "|---|---|---|", *rows]))
        else:
            sections.append(_table(f"`{token}`", spec["properties"], set(spec.get("required", []))))
    return "\n\n".join(sections) + "\n"


def _table(title: str, properties: dict[str, Any], required: set[str]) -> str:
    rows = [f"| `{name}` | {_type(spec)} | {'yes' if name in required else ''} | {_text(spec.get('description'))} |"
            for name, spec in properties.items()]
    return "\n".join([title, "", "| name | type | required | description |", "|---|---|---|---|", *rows])


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit(":", 1)[-1]
    if spec.get("type") == "array":
        return f"list of {_type(spec['items'])}"
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return f"map of {_type(spec['additionalProperties'])}"
    return spec.get("type", "")


def _text(description: Any) -> str:
    return " ".join(str(description or "").split()).replace("|", "\\|")
