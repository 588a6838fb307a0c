"""The real Pulumi engine, run the way a user runs it, on a copy of the project.

An Engine has its own PULUMI_HOME (with the built or installed provider plugins), a local file
state backend and a passphrase, in a directory of its own; the project is copied there (the
program, its stack files and the policy pack; the virtualenvs are linked, not rebuilt), so a
test may change a stack file without touching the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from ..build import tools
from ..build.cache import PROJECT_DIR, cache_root
from .proctree import PeakSampler, die_with_parent, kill_session

# What `pulumi` needs of the project: the program, the stack files, the policy pack.
PROGRAM_PARTS = ("Pulumi.yaml", "__main__.py", "program.py", "velero_pulumi", "config", "policy")
# The providers, at the versions the project's Python SDKs ask the engine for.
PROVIDERS = {
    "kubernetes": tools.KUBERNETES_PROVIDER_VERSION,
    "random": tools.RANDOM_PROVIDER_STAMP,
    "command": tools.COMMAND_PROVIDER_STAMP,
    "docker": tools.DOCKER_PROVIDER_STAMP,
}
# The language hosts a program in another language needs (Engine.create's languages).
LANGUAGE_HOSTS = ("nodejs", "yaml")
ENGINE_BINARIES = ("pulumi", "pulumi-language-python", "pulumi-language-python-exec",
                   *(f"pulumi-resource-{name}" for name in PROVIDERS))


class EngineError(Exception):
    pass


@dataclass
class Result:
    """One CLI run: its exit code and output."""

    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float
    cli_peak_bytes: int = 0  # the pulumi process's own peak resident memory
    tree_peak_bytes: int = 0  # the peak of the sum over pulumi, its language host and plugins

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> dict:
        return json.loads(self.stdout)


@dataclass
class Engine:
    root: Path
    binaries: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)
    passphrase: str = "brrtrouter-real-tier"

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def home(self) -> Path:
        return self.root / "pulumi-home"

    @classmethod
    def create(cls, root: Path, *, env: Optional[dict[str, str]] = None,
               program: Optional["Program"] = None, languages: tuple[str, ...] = ()) -> "Engine":
        """An engine on a copy of `program` (default: this project's); `languages`: the language
        hosts besides Python it needs (nodejs, yaml), from the tools' cache."""
        hosts = tuple(f"pulumi-language-{language}" for language in languages)
        engine = cls(root=root, binaries=tools.locate(ENGINE_BINARIES + hosts), env=dict(env or {}))
        engine.project.mkdir(parents=True)
        (program or project_program()).copy_into(engine.project)
        engine._link_plugins()
        (root / "state").mkdir(parents=True, exist_ok=True)
        engine.tmpdir.mkdir(mode=0o700, exist_ok=True)
        return engine

    @property
    def tmpdir(self) -> Path:
        """The engine's own temporary directory: the kubernetes provider leaves kubeconfigs there."""
        return self.root / "tmp"

    def environment(self) -> dict[str, str]:
        tool_dirs = dict.fromkeys(str(path.parent) for name, path in self.binaries.items()
                                  if name == "pulumi" or name.startswith("pulumi-language-"))
        return {
            **os.environ,
            "PATH": os.pathsep.join([*tool_dirs, os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "NO_COLOR": "1",
            "TMPDIR": str(self.tmpdir),
            **self.env,
        }

    def run(self, *args: str, check: bool = True, timeout: float = 600, input: Optional[str] = None) -> Result:
        started = time.monotonic()
        command = [str(self.binaries["pulumi"]), *args, "--non-interactive"]
        # Its own session: whatever the CLI leaves running when it exits (it does leave its language
        # host behind when it refuses a stack's config) is found and stopped.
        process = subprocess.Popen(command, cwd=self.project, env=self.environment(), text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, preexec_fn=die_with_parent)
        try:
            with PeakSampler([process.pid]) as peaks:
                try:
                    stdout, stderr = process.communicate(input=input, timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    stdout, stderr = process.communicate()
                    raise EngineError(f"pulumi {' '.join(args)} did not finish in {timeout:.0f} s:\n{stdout}{stderr}") from None
        finally:
            kill_session(process.pid)
        result = Result(list(args), process.returncode, stdout, stderr, time.monotonic() - started,
                        peaks.process_peak, peaks.tree_peak)
        if check and result.code != 0:
            raise EngineError(f"pulumi {' '.join(args)} exited {result.code}:\n{result.output}")
        return result

    # --- stacks ----------------------------------------------------------------------------
    def stack_file(self, stack: str) -> Path:
        return self.project / f"Pulumi.{stack}.yaml"

    def init_stack(self, stack: str, config: Optional[dict[str, str | list[str]]] = None,
                   secrets: Optional[dict[str, str]] = None) -> None:
        """Create `stack` (its stack file, if the project has one, stays as it is) and set config;
        a list value replaces the key's list."""
        self.run("stack", "init", stack, "--secrets-provider", "passphrase")
        for key, value in (config or {}).items():
            if isinstance(value, list):
                self.run("config", "rm", key, "--stack", stack, check=False)
                for index, item in enumerate(value):
                    self.set_config(stack, f"{key}[{index}]", item, path=True)
            else:
                self.set_config(stack, key, value)
        for key, value in (secrets or {}).items():
            self.set_config(stack, key, value, secret=True)

    def set_config(self, stack: str, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        # The value goes on stdin: secrets never appear in a process list.
        self.run("config", "set", key, "--stack", stack, *(["--secret"] if secret else []),
                 *(["--path"] if path else []), input=value)

    def preview(self, stack: str, *args: str, check: bool = True) -> Result:
        return self.run("preview", "--stack", stack, "--json", *args, check=check)

    def up(self, stack: str, *args: str, check: bool = True, timeout: float = 600) -> Result:
        return self.run("up", "--stack", stack, "--yes", "--skip-preview", *args, check=check, timeout=timeout)

    def destroy(self, stack: str, *args: str, check: bool = True) -> Result:
        return self.run("destroy", "--stack", stack, "--yes", "--skip-preview", *args, check=check)

    def outputs(self, stack: str, *, show_secrets: bool = False) -> dict:
        return self.run("stack", "output", "--stack", stack, "--json",
                        *(["--show-secrets"] if show_secrets else [])).json()

    def resources(self, stack: str, *, show_secrets: bool = False) -> list[dict]:
        """The stack's resources from its state (type, urn, inputs, outputs); with show_secrets,
        secret values decrypted and unwrapped."""
        state = self.run("stack", "export", "--stack", stack, *(["--show-secrets"] if show_secrets else [])).json()
        return [unwrap_secrets(resource) for resource in state["deployment"].get("resources") or []]

    # --- set-up ----------------------------------------------------------------------------
    def _link_plugins(self) -> None:
        """PULUMI_HOME/plugins as the CLI lays it out, each binary linked from the tools' cache."""
        for name, version in PROVIDERS.items():
            folder = self.home / "plugins" / f"resource-{name}-v{version}"
            folder.mkdir(parents=True)
            (folder / f"pulumi-resource-{name}").symlink_to(self.binaries[f"pulumi-resource-{name}"])
        # The language hosts, for what looks for them as plugins, not beside the CLI: pulumi-yaml's
        # loader starts a Python component package's host from here (PULUMI_IGNORE_AMBIENT_PLUGINS).
        for language in ("python", *LANGUAGE_HOSTS):
            binary = f"pulumi-language-{language}"
            if binary not in self.binaries:
                continue
            version = next(tool.version for tool in tools.TOOLS if binary in tool.binaries)
            folder = self.home / "plugins" / f"language-{language}-v{version}"
            folder.mkdir(parents=True)
            (folder / binary).symlink_to(self.binaries[binary])


_POLICY_VENV_MADE_BY_ONE = threading.Lock()


@dataclass(frozen=True)
class Program:
    """A Pulumi program as the engine gets it: `parts` of `source` copied, its stack files with
    them, and `virtualenvs` (path in the project -> an existing virtualenv) linked in."""

    source: Path
    parts: tuple[str, ...]
    virtualenvs: dict[str, Path]

    def copy_into(self, project: Path) -> None:
        copy_parts(self.source, self.parts, project)
        for stack_file in self.source.glob("Pulumi.*.yaml"):
            shutil.copy2(stack_file, project / stack_file.name)
        for link, venv in self.virtualenvs.items():
            if not (venv / "bin" / "python").exists():
                raise EngineError(f"{venv} is missing: run ./scripts/test (it makes the project's virtualenv)")
            (project / link).symlink_to(venv)


def copy_parts(source: Path, parts: Iterable[str], destination: Path) -> None:
    """Files and directories of `source` into `destination`, over what is there, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "venv", ".venv", "*.pyc", "*.egg-info", "build")
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(source / part, destination / part, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, destination / part)


def project_program(source: Path = PROJECT_DIR, parts: tuple[str, ...] = PROGRAM_PARTS) -> Program:
    """This project's program (or an earlier version of it at `source`), with its virtualenv and
    the policy pack's."""
    return Program(source, parts, {".venv": PROJECT_DIR / ".venv", "policy/venv": policy_venv()})


def policy_venv() -> Path:
    """The policy pack's virtualenv (policy/requirements.txt), made once per requirements and
    kept in the tools' cache; the CLI would otherwise make one in every copy of the project."""
    requirements = PROJECT_DIR / "policy" / "requirements.txt"
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:12]
    venv = cache_root() / f"policy-venv-{key}"
    with _POLICY_VENV_MADE_BY_ONE:  # engines are made side by side in threads
        if (venv / ".complete").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                              "--disable-pip-version-check", "-r", str(requirements)], capture_output=True, text=True)
        if pip.returncode != 0:
            raise EngineError(f"could not install policy/requirements.txt into {venv}:\n{pip.stderr[-2000:]}")
        (venv / ".complete").write_text("")
        return venv



SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def unwrap_secrets(value):
    """A state value with each decrypted secret ({sig: secret, plaintext: JSON}) replaced by its value."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE[0]) == SECRET_SIGNATURE[1] and "plaintext" in value:
            return unwrap_secrets(json.loads(value["plaintext"]))
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def steps(preview: Result) -> list[dict]:
    """The steps of a `preview --json` (op and urn of each)."""
    return preview.json().get("steps") or []


def diagnostics(preview: Result, severities: Iterable[str] = ("error", "warning")) -> list[dict]:
    return [d for d in preview.json().get("diagnostics") or [] if d.get("severity") in severities]


@dataclass(frozen=True)
class PolicyReport:
    """One policy report of a preview or update, as the CLI prints it under "Policies:"."""

    level: str  # mandatory, advisory, ...
    policy: str
    resource: str
    message: str


def policy_reports(result: Result) -> list[PolicyReport]:
    """The policy reports of a CLI run (its --json output leaves them out)."""
    reports: list[PolicyReport] = []
    lines = result.stdout.splitlines()
    for index, line in enumerate(lines):
        found = re.match(r"^\s+- \[(\w+)\]\s+(\S+)\s+\((.*)\)\s*$", line)
        if not found:
            continue
        indent = len(line) - len(line.lstrip()) + 2
        body = []
        for following in lines[index + 1:]:
            if not following.strip() or len(following) - len(following.lstrip()) < indent:
                break
            body.append(following.strip())
        reports.append(PolicyReport(found[1], found[2], found[3], "\n".join(body[1:])))  # body[0]: description
    return reports
