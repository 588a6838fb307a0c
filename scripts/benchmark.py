"""How long the program takes: under Pulumi's mocks, and on the real engine.

Run: .venv/bin/python scripts/benchmark.py [--runs N]   (after ./scripts/test has made .venv)
     .venv/bin/python scripts/benchmark.py --real      (after scripts/engine build: see realbench.py)
     .venv/bin/python scripts/benchmark.py --real --dev-stack | --fsb   (one part of it: realbench.py,
                                                     fsbench.py)

Each run is a whole program evaluation as in the tests: __main__.py with Pulumi.dev.yaml's
config, settings and catalogue validation, every component, and all outputs resolved. It times
the dev stack and the dev stack with generated catalogues of 50 and 200 schedules.
Targets: dev stack under 1 s, 200 schedules under 3 s, growth linear.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cli_config import cli_config  # noqa: E402
from tests.harness import PROJECT_DIR, run_main  # noqa: E402

TARGETS = {"dev stack": 1.0, "200 schedules": 3.0}


def generated_catalogue(schedules: int, folder: Path) -> str:
    """The shipped catalogue with its schedules replaced by `schedules` generated ones."""
    document = yaml.safe_load((PROJECT_DIR / "config" / "catalogue.yaml").read_text())
    services = list(document["services"])
    document["schedules"] = {
        f"generated-{number:03d}": {
            "cron": f"{number % 60} */{1 + number % 12} * * *",
            "ttl": f"{24 * (1 + number % 30)}h",
            "services": [services[number % len(services)]],
        }
        for number in range(schedules)
    }
    path = folder / f"catalogue-{schedules}.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def median_seconds(config: dict[str, str], runs: int) -> float:
    timings = []
    for _ in range(runs):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        started = time.perf_counter()
        result = run_main(config)
        timings.append(time.perf_counter() - started)
        assert result.registrations, "the program registered nothing"
        loop.close()
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--real", action="store_true", help="the real engine, local cluster and Velero instead")
    parser.add_argument("--dev-stack", action="store_true", help="with --real: only the dev stack on a real kind node")
    parser.add_argument("--fsb", action="store_true", help="with --real: only file-system backup against a plain copy")
    options = parser.parse_args()
    if options.real and options.fsb:
        from scripts.fsbench import main as fsb_main

        return fsb_main()
    if options.real:
        from scripts.realbench import main as real_main

        return real_main(runs=3, dev_stack_only=options.dev_stack)
    runs = options.runs
    # As in the unit tests: the chart repository from a stand-in, no network.
    from velero_pulumi.config import chart_files
    from tests.fixtures import stand_in_chart_repository

    chart_files.http_get = stand_in_chart_repository
    median_seconds(cli_config("dev"), 1)  # imports and caches, not measured
    with tempfile.TemporaryDirectory() as folder:
        cases = {
            "dev stack": cli_config("dev"),
            "50 schedules": cli_config("dev", {"catalogue": generated_catalogue(50, Path(folder))}),
            "200 schedules": cli_config("dev", {"catalogue": generated_catalogue(200, Path(folder))}),
        }
        results = {name: median_seconds(config, runs) for name, config in cases.items()}
    for name, seconds in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"  (target {target:.0f} s: {'met' if seconds < target else 'MISSED'})")
        print(f"{name:>14}: median of {runs} runs {seconds:.3f} s{verdict}")
    shipped = len(yaml.safe_load((PROJECT_DIR / "config" / "catalogue.yaml").read_text())["schedules"])
    per_schedule_50 = (results["50 schedules"] - results["dev stack"]) / (50 - shipped)
    per_schedule_200 = (results["200 schedules"] - results["dev stack"]) / (200 - shipped)
    print(f"per extra schedule: {per_schedule_50 * 1000:.1f} ms (50), {per_schedule_200 * 1000:.1f} ms (200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
