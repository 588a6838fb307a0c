"""The real tier's figures: the engine, the local cluster and Velero built here, timed.

Run: .venv/bin/python scripts/benchmark.py --real   (after scripts/engine build)

Each figure is the median of 3 runs, on this machine's cores:
- real `pulumi preview` of dev (Docker daemon, chart from a Helm repository on 127.0.0.1) and of
  prod (the local API server, chart from the local copy), and of a bare program (the same
  project with a __main__.py that registers nothing), so the program's overhead is a ratio;
- the peak memory of the pulumi CLI process, and of it with its language host and plugins;
- the build of the tools: cold (what each took when it was built, from the cache's records) and
  warm (scripts/engine build with everything present).
- the round trip of tests/real/test_round_trip.py, step by step: local cluster start, `pulumi up`
  of the test stack, a no-op `pulumi up`, `pulumi preview`, a backup from the configuration
  schedule and a restore of the deleted objects with a real Velero server (its start included),
  `pulumi destroy`; and the peak memory of the whole tier while it runs.
Goals: dev preview under 4 s on two cores and under 2x the bare program; a no-op `up` under 10 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from realtier import toolchain  # noqa: E402
from realtier.chartrepo import ChartRepository  # noqa: E402
from realtier.dockerd import daemon  # noqa: E402
from realtier.engine import Engine, Result  # noqa: E402
from realtier.localstack import LocalStack  # noqa: E402
from realtier.proctree import FolderPeakSampler  # noqa: E402
from tests.real.roundtrip import APP, STACK, make_environment, samples  # noqa: E402
from tests.real import kube  # noqa: E402
from tests.real.stacks import LOCAL_CHART, init_committed_stack, write_production_kubeconfig  # noqa: E402

MB = 1024 * 1024


def median_of(runs: int, measure: Callable[[], Result]) -> tuple[float, int, int]:
    results = [measure() for _ in range(runs)]
    return (statistics.median(r.seconds for r in results), max(r.cli_peak_bytes for r in results),
            max(r.tree_peak_bytes for r in results))


def previews(root: Path, runs: int, stack: ExitStack) -> dict[str, tuple[float, int, int]]:
    figures = {}
    stack.enter_context(daemon(root / "dockerd"))
    repository = stack.enter_context(ChartRepository.start(root / "chart-repository"))
    dev = Engine.create(root / "dev", env=repository.environment())
    init_committed_stack(dev, "dev", {"veleroChart": repository.url})
    figures["dev preview"] = median_of(runs, lambda: dev.preview("dev"))

    cluster = stack.enter_context(LocalStack.start(root / "localstack"))
    kube.install_crds(cluster.api, kube.OPERATOR_CRDS)
    prod = Engine.create(root / "prod", env={"KUBECONFIG": str(write_production_kubeconfig(cluster))})
    init_committed_stack(prod, "prod", {"veleroChart": LOCAL_CHART})
    figures["prod preview"] = median_of(runs, lambda: prod.preview("prod"))

    bare = Engine.create(root / "bare")
    (bare.project / "__main__.py").write_text("import pulumi  # registers nothing: the engine's own cost\n")
    bare.init_stack("dev")
    figures["bare preview"] = median_of(runs, lambda: bare.preview("dev"))
    return figures


def round_trips(root: Path, runs: int) -> tuple[dict[str, float], int]:
    timings: dict[str, list[float]] = {}

    def timed(name: str, seconds: float) -> None:
        timings.setdefault(name, []).append(seconds)

    with FolderPeakSampler([], folder=toolchain.cache_root()) as memory:
        for run in range(runs):
            started = time.monotonic()
            with LocalStack.start(root / f"cluster-{run}") as cluster:
                timed("local cluster start", time.monotonic() - started)
                env = make_environment(cluster, root / f"round-trip-{run}")
                timed("pulumi up", env.engine.up(STACK).seconds)
                timed("no-op pulumi up", env.engine.up(STACK).seconds)
                timed("pulumi preview", env.engine.preview(STACK).seconds)
                started = time.monotonic()
                velero = env.start_velero()
                velero.wait_for_location(cluster.api)
                env.cli("backup", "create", "bench", "--from-schedule", "configuration", "--wait")
                before = samples(cluster.api)
                for name in before:
                    kind = "configmaps" if "config" in name else "secrets"
                    cluster.api.delete(f"/api/v1/namespaces/{APP}/{kind}/{name}")
                env.cli("restore", "create", "bench", "--from-backup", "bench", "--wait")
                assert samples(cluster.api) == before, "the restore did not bring the objects back"
                timed("backup/restore round trip", time.monotonic() - started)
                env.stop_velero()
                timed("pulumi destroy", env.engine.destroy(STACK).seconds)
    return {name: statistics.median(values) for name, values in timings.items()}, memory.tree_peak


def build_times() -> tuple[int, float]:
    cold = 0
    for tool in toolchain.TOOLS:
        record = tool.entry() / "BUILT"
        if record.is_file():
            cold += json.loads(record.read_text())["seconds"]
    started = time.monotonic()
    subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), "build"], check=True, capture_output=True,
                   env={**os.environ, "PYTHON": sys.executable})
    return cold, time.monotonic() - started


def main(runs: int = 3) -> int:
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory(prefix="brrtrouter-realbench-") as folder, ExitStack() as stack:
        figures = previews(Path(folder), runs, stack)
    with tempfile.TemporaryDirectory(prefix="brrtrouter-realbench-") as folder:
        steps, tier_peak = round_trips(Path(folder), runs)
    print(f"real tier on {cores} cores, median of {runs} runs")
    for name, (seconds, cli_peak, tree_peak) in figures.items():
        print(f"{name:>14}: {seconds:5.2f} s   pulumi CLI peak {cli_peak / MB:4.0f} MB, with its plugins {tree_peak / MB:5.0f} MB")
    dev, bare = figures["dev preview"][0], figures["bare preview"][0]
    print(f"dev preview / bare program: {dev / bare:.2f}x (goal under 2x); dev preview goal under 4 s: "
          f"{'met' if dev < 4 else 'MISSED'}")
    for name, seconds in steps.items():
        print(f"{name:>26}: {seconds:5.1f} s")
    print(f"no-op up goal under 10 s: {'met' if steps['no-op pulumi up'] < 10 else 'MISSED'}; "
          f"peak memory of the whole tier (cluster, MinIO, engine, plugins, Velero): {tier_peak / MB:.0f} MB")
    cold, warm = build_times()
    print(f"tools build: cold {cold // 60} min {cold % 60} s (as recorded when each was built), warm {warm:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
