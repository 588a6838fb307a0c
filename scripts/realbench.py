"""The real tier's figures: the engine, the local cluster and Velero built here, timed.

Run: .venv/bin/python scripts/benchmark.py --real [--dev-stack]   (after scripts/engine build;
--dev-stack: only the dev stack's figures)

Each figure is the median of 3 runs, on this machine's cores:
- real `pulumi preview` of dev (Docker daemon, chart from a Helm repository on 127.0.0.1) and of
  prod (the local API server, chart from the local copy), and of a bare program (the same
  project with a __main__.py that registers nothing), so the program's overhead is a ratio;
- the peak memory of the pulumi CLI process, and of it with its language host and plugins;
- the build of the tools: cold (what each took when it was built, from the cache's records) and
  warm (scripts/engine build with everything present);
- the dev stack on a real kind node, side by side with the same by hand, 3 of each: `./scripts/up
  --yes` from nothing until it returns (the location `Available`: up waits for it), and as the
  anchor what a user would do by hand with the same node image, MinIO image and chart: `kind
  create cluster`, `docker run` MinIO on kind's network with its bucket, `helm install` with one
  location, until it is `Available`; their ratio (goal at most 1.3x), where the median up's time
  went (the objects' time stamps), `pulumi destroy`, and the peak memory of the tools' processes
  and of the node and MinIO containers;
- file-system backup and restore against a plain copy of the same files (scripts/fsbench.py).
- the round trip of tests/real/test_round_trip.py, step by step: local cluster start, `pulumi up`
  of the test stack, a no-op `pulumi up`, `pulumi preview`, a backup from the configuration
  schedule and a restore of the deleted objects with a real Velero server (its start included),
  `pulumi destroy`; and the peak memory of the whole tier while it runs.
Goals: dev preview under 4 s on two cores and under 2x the bare program; a no-op `up` under 10 s.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from realtier.build import cache, tools  # noqa: E402
from realtier.run.chartrepo import ChartRepository  # noqa: E402
from realtier.run.dockerd import Daemon, daemon  # noqa: E402
from realtier.run.engine import Engine, Result  # noqa: E402
from realtier.run.localstack import LocalStack  # noqa: E402
from realtier.run.proctree import FolderPeakSampler  # noqa: E402
from tests.real.roundtrip import APP, STACK, make_environment, samples  # noqa: E402
from tests.real import devstack  # noqa: E402
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

    with FolderPeakSampler([], folder=cache.cache_root()) as memory:
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


def containers_memory(*names: str) -> int:
    """The summed memory use of these containers now (docker stats)."""
    listed = devstack.docker_cli("stats", "--no-stream", "--format", "{{.MemUsage}}", *names).stdout.split("\n")
    units = {"B": 1, "KiB": 1024, "MiB": MB, "GiB": 1024 * MB}
    total = 0
    for line in filter(None, listed):
        value = line.split("/")[0].strip()
        number = value.rstrip("KMGiB")
        total += int(float(number) * units[value[len(number):]])
    return total


def dev_stack_up_and_down(root: Path, docker: Daemon) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """./scripts/up --yes from nothing until it returns (the location Available: up waits for it),
    where its time went, and pulumi destroy."""
    figures: dict[str, float] = {}
    with devstack.dev_stack_up(root, docker) as dev:
        up = dev.first_up
        assert devstack.location_phase(dev.api) == "Available", "up returned before the location was Available"
        figures["./scripts/up --yes to Available"] = up.seconds
        timeline = devstack.up_timeline(dev.api, up.started_at, up.ended_at)
        figures["node and MinIO containers, MB"] = containers_memory(devstack.NODE, devstack.MINIO) / MB
        figures["pulumi destroy"] = dev.engine.destroy(devstack.STACK).seconds
    return figures, timeline


ANCHOR = "anchor"


def anchor_values(access_key: str, secret_key: str) -> dict:
    """The chart's values a user writes by hand for one location on a MinIO beside kind."""
    plugin = devstack.DevStack.setting("veleroAwsPluginImage")
    return {
        "initContainers": [{"name": "velero-plugin-for-aws", "image": plugin, "imagePullPolicy": "IfNotPresent",
                            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}]}],
        "image": {"pullPolicy": "IfNotPresent"}, "upgradeCRDs": False, "snapshotsEnabled": False, "deployNodeAgent": True,
        "configuration": {"backupStorageLocation": [{"name": "default", "provider": "aws", "bucket": "velero", "config": {
            "region": "minio", "s3ForcePathStyle": "true", "s3Url": f"http://{ANCHOR}-minio:9000"}}]},
        "credentials": {"secretContents": {"cloud": f"[default]\naws_access_key_id={access_key}\naws_secret_access_key={secret_key}\n"}},
    }


def by_hand(root: Path) -> float:
    """The anchor: kind create cluster, MinIO with its bucket, helm install, until Available."""
    found = devstack.cli_tools("kind", "helm")
    root.mkdir(parents=True, exist_ok=True)
    kubeconfig = root / "anchor-kubeconfig"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    user, password = "anchor", secrets.token_hex(16)
    values = root / "anchor-values.yaml"
    values.write_text(yaml.safe_dump(anchor_values(user, password)))
    minio = f"{ANCHOR}-minio"

    def run(*command: str) -> None:
        subprocess.run(list(command), env=env, check=True, capture_output=True, timeout=900)

    try:
        started = time.monotonic()
        run(str(found["kind"]), "create", "cluster", "--name", ANCHOR, "--image", devstack.DevStack.setting("kindNodeImage"))
        run("docker", "run", "--detach", "--name", minio, "--network", "kind", "-e", f"MINIO_ROOT_USER={user}",
            "-e", f"MINIO_ROOT_PASSWORD={password}", devstack.DevStack.setting("minioImage"), "server", "/data")
        subprocess.run(["docker", "exec", minio, "sh", "-c", f"until mc alias set local http://127.0.0.1:9000 {user} {password}"
                        " >/dev/null 2>&1; do sleep 0.2; done; mc mb local/velero"], check=True, capture_output=True, timeout=120)
        run(str(found["helm"]), "install", "velero", str(Path(LOCAL_CHART)), "--namespace", "velero", "--create-namespace",
            "--values", str(values), "--kube-context", f"kind-{ANCHOR}")
        api = devstack.api_from_kubeconfig(kubeconfig.read_text(), f"kind-{ANCHOR}", root / "anchor-certs")
        devstack.wait_for_location(api)
        return time.monotonic() - started
    finally:
        subprocess.run([str(found["kind"]), "delete", "cluster", "--name", ANCHOR], env=env, capture_output=True, timeout=300)
        subprocess.run(["docker", "rm", "--force", "--volumes", minio], capture_output=True, timeout=120)
        subprocess.run(["docker", "network", "rm", "kind"], capture_output=True, timeout=60)


def dev_stack_figures(root: Path, runs: int) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """The dev stack's up and the same by hand, `runs` times each, side by side; the medians, and
    the timeline of the up whose time was the median."""
    ups: list[tuple[dict[str, float], list[tuple[str, float]]]] = []
    by_hand_seconds = []
    with ExitStack() as stack, FolderPeakSampler([], folder=cache.cache_root()) as memory:
        docker = stack.enter_context(daemon(root / "dockerd"))
        for run in range(runs):
            try:
                ups.append(dev_stack_up_and_down(root / f"dev-{run}", docker))
            except devstack.DevStackUnavailable as error:
                raise SystemExit(f"the dev stack's figures cannot be measured here: {error}") from error
            by_hand_seconds.append(by_hand(root / f"by-hand-{run}"))
    ups.sort(key=lambda up: up[0]["./scripts/up --yes to Available"])
    figures, timeline = ups[len(ups) // 2]
    for name in figures:
        figures[name] = statistics.median(up[0][name] for up in ups)
    figures["by hand: kind create, MinIO, helm install, to Available"] = statistics.median(by_hand_seconds)
    figures["tools' processes peak, MB"] = memory.tree_peak / MB
    return figures, timeline


def build_times() -> tuple[int, float]:
    cold = 0
    for tool in tools.TOOLS:
        record = tool.entry() / "BUILT"
        if record.is_file():
            cold += json.loads(record.read_text())["seconds"]
    started = time.monotonic()
    subprocess.run([str(PROJECT_DIR / "scripts" / "engine"), "build"], check=True, capture_output=True,
                   env={**os.environ, "PYTHON": sys.executable})
    return cold, time.monotonic() - started


def print_dev_stack_figures(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="brrtrouter-realbench-") as folder:
        figures, timeline = dev_stack_figures(Path(folder), runs)
    print(f"dev stack, median of {runs} runs of each")
    for name, value in figures.items():
        print(f"{name:>56}: {value:6.1f}")
    print("the median up's timeline, seconds after ./scripts/up started:")
    for name, seconds in timeline:
        print(f"{seconds:8.1f}  {name}")
    ratio = figures["./scripts/up --yes to Available"] / figures["by hand: kind create, MinIO, helm install, to Available"]
    print(f"dev stack up / by hand: {ratio:.2f}x (goal at most 1.3x: {'met' if ratio <= 1.3 else 'MISSED'})")


def main(runs: int = 3, dev_stack_only: bool = False) -> int:
    if dev_stack_only:
        print_dev_stack_figures(runs)
        return 0
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
    print_dev_stack_figures(runs)
    from scripts.fsbench import main as file_system_backup_figures

    file_system_backup_figures()
    cold, warm = build_times()
    print(f"tools build: cold {cold // 60} min {cold % 60} s (as recorded when each was built), warm {warm:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
