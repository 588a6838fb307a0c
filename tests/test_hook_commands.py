"""The catalogue's hook commands, run for real by /bin/sh against stand-ins for pg_dump, date and redis-cli."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from velero_pulumi.config.catalogue import load_catalogue
from velero_pulumi.config.problems import Problems

from .harness import PROJECT_DIR

DUMP_DIR = "/var/lib/postgresql/data/velero-dumps"


@pytest.fixture(scope="module")
def hooks():
    problems = Problems()
    catalogue = load_catalogue(problems, "catalogue", PROJECT_DIR / "config" / "catalogue.yaml")
    return {hook.name: hook for hook in catalogue.hooks}


def tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def run_hook(command: tuple[str, ...], bin_dir: Path, replace: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    words = list(command)
    for old, new in (replace or {}).items():
        words = [word.replace(old, new) for word in words]
    assert words[:2] == ["/bin/sh", "-c"]
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(bin_dir.parent)}
    return subprocess.run(words, env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture
def bin_dir(tmp_path):
    path = tmp_path / "bin"
    path.mkdir()
    return path


def test_postgres_dump_writes_a_timestamped_dump_into_the_data_volume(hooks, bin_dir, tmp_path):
    tool(bin_dir, "pg_dump", 'for a in "$@"; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done\necho "$@" > "$STATE/pg_dump.args"')
    tool(bin_dir, "date", 'echo 20261124T020000Z')
    dumps = tmp_path / "data" / "velero-dumps"
    result = run_hook(hooks["postgres-dump"].command, bin_dir, {DUMP_DIR: str(dumps)})
    assert result.returncode == 0, result.stderr
    assert [p.name for p in dumps.iterdir()] == ["brrtrouter-20261124T020000Z.dump"]
    args = (tmp_path / "pg_dump.args").read_text()
    assert "--username=brrtrouter --dbname=brrtrouter --format=custom" in args


def test_a_failing_pg_dump_fails_the_hook(hooks, bin_dir, tmp_path):
    tool(bin_dir, "pg_dump", "exit 1")
    result = run_hook(hooks["postgres-dump"].command, bin_dir, {DUMP_DIR: str(tmp_path / "dumps")})
    assert result.returncode != 0
    assert hooks["postgres-dump"].on_error == "Fail"


def test_the_post_hook_keeps_the_five_newest_dumps_the_pre_hook_wrote(hooks, bin_dir, tmp_path):
    tool(bin_dir, "pg_dump", 'for a in "$@"; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done')
    counter = tmp_path / "clock"
    counter.write_text("0")
    # A clock that moves a day per call, crossing a month: names must still sort by time.
    tool(bin_dir, "date", 'n=$(cat "$STATE/clock"); echo $((n+1)) > "$STATE/clock"; printf "2026%02d%02dT020000Z\\n" $((11 + (n+25)/30)) $(((n+25)%30 + 1))')
    dumps = tmp_path / "dumps"
    for _ in range(8):
        assert run_hook(hooks["postgres-dump"].command, bin_dir, {DUMP_DIR: str(dumps)}).returncode == 0
    (dumps / "notes.txt").write_text("not a dump")
    written = sorted(p.name for p in dumps.glob("brrtrouter-*.dump"))
    assert len(written) == 8

    result = run_hook(hooks["postgres-prune-dumps"].command, bin_dir, {DUMP_DIR: str(dumps)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dumps.glob("brrtrouter-*.dump")) == written[-5:]
    assert (dumps / "notes.txt").exists()


def test_the_post_hook_is_harmless_with_few_dumps(hooks, bin_dir, tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "brrtrouter-20261124T020000Z.dump").write_text("dump")
    result = run_hook(hooks["postgres-prune-dumps"].command, bin_dir, {DUMP_DIR: str(dumps)})
    assert result.returncode == 0, result.stderr
    assert len(list(dumps.iterdir())) == 1


def fake_redis(bin_dir: Path, finishes_after_polls: int) -> None:
    # LASTSAVE changes once the "background save" has been polled enough times.
    tool(
        bin_dir,
        "redis-cli",
        'echo "$*" >> "$STATE/redis.calls"\n'
        'case "$1" in\n'
        '  BGSAVE) echo "Background saving started";;\n'
        '  LASTSAVE)\n'
        '    n=$(grep -c LASTSAVE "$STATE/redis.calls")\n'
        f'    if grep -q BGSAVE "$STATE/redis.calls" && [ "$n" -gt {finishes_after_polls} ]; then echo 1700000100; else echo 1700000000; fi;;\n'
        "esac",
    )
    tool(bin_dir, "sleep", ":")


def test_redis_hook_waits_until_the_save_finished(hooks, bin_dir, tmp_path):
    fake_redis(bin_dir, finishes_after_polls=4)
    result = run_hook(hooks["redis-bgsave"].command, bin_dir)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "redis.calls").read_text().splitlines()
    assert calls[:2] == ["LASTSAVE", "BGSAVE SCHEDULE"]
    # It polled until LASTSAVE moved, not once.
    assert calls.count("LASTSAVE") == 5


def test_redis_hook_fails_when_the_save_never_finishes(hooks, bin_dir, tmp_path):
    fake_redis(bin_dir, finishes_after_polls=10_000)
    result = run_hook(hooks["redis-bgsave"].command, bin_dir)
    assert result.returncode == 1
    assert "BGSAVE did not finish in time" in result.stderr


def test_hook_commands_are_valid_posix_shell(hooks):
    dash = shutil.which("dash") or "/bin/sh"
    for hook in hooks.values():
        script = hook.command[2]
        result = subprocess.run([dash, "-n", "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, (hook.name, result.stderr)
