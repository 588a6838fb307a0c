"""Prints the backup plan as a table: per schedule its RPO, retention, backups kept and storage.

    .venv/bin/python scripts/plan.py [--stack dev]     the stack output backupPlan (pulumi)
    .venv/bin/python scripts/plan.py --catalogue PATH  computed from a catalogue, no stack needed
    .venv/bin/python scripts/plan.py --json FILE       a backupPlan document (- for stdin)

Without a deployed stack it falls back to the project's catalogue (no stack overrides) and says so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from velero_pulumi.config.catalogue import load_catalogue  # noqa: E402
from velero_pulumi.config.plan import backup_plan  # noqa: E402
from velero_pulumi.config.problems import Problems  # noqa: E402

COLUMNS = ("schedule", "cron", "RPO", "retention", "kept", "volume data", "est. storage")


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "-"
    if minutes < 60:
        return f"{minutes:g}m"
    if minutes < 2 * 1440:
        return f"{minutes / 60:g}h"
    return f"{minutes / 1440:g}d"


def table(plan: dict) -> str:
    rows = [
        (
            entry["name"],
            entry["cron"] + (" (paused)" if entry["paused"] else ""),
            duration(entry["rpoMinutes"]),
            duration(entry["retentionHours"] * 60),
            str(entry["keptBackups"]),
            ", ".join(entry["services"]) or "-",
            f"{entry['estimatedGiB']:.2f} GiB",
        )
        for entry in plan["schedules"]
    ]
    totals = plan["totals"]
    rows.append(("total", "", "", "", str(totals["keptBackups"]), "", f"{totals['estimatedGiB']:.2f} GiB"))
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [COLUMNS, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.insert(len(lines) - 1, lines[1])
    lines.append("")
    lines.append("Storage: kopia's full copy plus the changed data of every backup kept; schedules share one")
    lines.append("repository and deduplicate, so the total is an upper bound.")
    if plan["warnings"]:
        lines.append("")
        lines.append("warnings:")
        lines.extend(f"  - {warning}" for warning in plan["warnings"])
    return "\n".join(lines)


def from_catalogue(path: Path) -> dict:
    problems = Problems()
    catalogue = load_catalogue(problems, "catalogue", path)
    problems.raise_if_any()
    return backup_plan(catalogue).as_output()


def from_stack(stack: str) -> dict | None:
    command = [str(PROJECT_DIR / "scripts" / "pulumi"), "stack", "output", "backupPlan", "--json", "--stack", stack]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev")
    source.add_argument("--catalogue", type=Path)
    source.add_argument("--json", dest="json_file")
    args = parser.parse_args()
    if args.json_file:
        text = sys.stdin.read() if args.json_file == "-" else Path(args.json_file).read_text()
        plan = json.loads(text)
    elif args.catalogue:
        plan = from_catalogue(args.catalogue)
    else:
        plan = from_stack(args.stack)
        if plan is None:
            print(
                f"note: no backupPlan output for stack {args.stack} (not deployed, or no pulumi here); "
                "computed from config/catalogue.yaml without the stack's overrides",
                file=sys.stderr,
            )
            plan = from_catalogue(PROJECT_DIR / "config" / "catalogue.yaml")
    print(table(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
