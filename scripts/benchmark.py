"""How long the dev program takes to evaluate under Pulumi's mocks (target: under 1 s).

Run: .venv/bin/python scripts/benchmark.py [--runs N]   (after ./scripts/test has made .venv)

Each run is a whole program evaluation as in the tests: __main__.py with Pulumi.dev.yaml's
config, settings validation, every component, and all outputs resolved.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cli_config import cli_config  # noqa: E402
from tests.harness import run_main  # noqa: E402

TARGET_SECONDS = 1.0


def time_dev_stack(runs: int) -> list[float]:
    config = cli_config("dev")
    timings = []
    for _ in range(runs):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        started = time.perf_counter()
        result = run_main(config)
        timings.append(time.perf_counter() - started)
        assert result.registrations, "the program registered nothing"
        loop.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    timings = time_dev_stack(runs)
    median = statistics.median(timings)
    print(f"dev stack, {runs} runs: first {timings[0]:.3f} s, median {median:.3f} s, max {max(timings):.3f} s")
    verdict = "within" if max(timings) < TARGET_SECONDS else "OVER"
    print(f"{verdict} the {TARGET_SECONDS:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
