"""Running the program and its components under Pulumi's mocks, recording what they register.

`MockResourceArgs` carries a resource's inputs but not its options (parent, retain_on_delete,
depends_on, ...); those are in the raw RegisterResource request, which `RecordingMonitor`
keeps. Inputs are kept with their secret markers, so tests can tell which ones are secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import runpy
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_DIR = Path(__file__).resolve().parents[1]
# What the package (pyproject.toml) is built from: nothing else of the project.
PACKAGE_FILES = ("pyproject.toml", "README.md", "velero_pulumi")


def package_wheel(root: Path) -> Path:
    """The package's wheel, built in `root` from a copy of PACKAGE_FILES alone."""
    source, wheels = root / "source", root / "wheels"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        if (PROJECT_DIR / name).is_dir():
            shutil.copytree(PROJECT_DIR / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(PROJECT_DIR / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = wheels.glob("velero_pulumi-*-py3-none-any.whl")
    return wheel


def virtualenv_with_the_wheel(venv: Path, build_root: Path) -> Path:
    """A new virtualenv at `venv` with the package's wheel (built in `build_root`) installed."""
    return virtualenv_with(venv, str(package_wheel(build_root)))


def virtualenv_with(venv: Path, requirement: str, env: Optional[Mapping[str, str]] = None) -> Path:
    """A new virtualenv at `venv` with `requirement` (a wheel, a git URL) installed by pip, at the
    dependency versions this project pins (requirements.txt as constraints)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                                "--constraint", str(PROJECT_DIR / "requirements.txt"), requirement],
                               env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv
PROJECT = "brrtrouter-backup"

FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: 'https://127.0.0.1:6443'}
  name: kind-brrtrouter-dev
contexts:
- context: {cluster: kind-brrtrouter-dev, user: kind-brrtrouter-dev}
  name: kind-brrtrouter-dev
current-context: kind-brrtrouter-dev
users:
- name: kind-brrtrouter-dev
  user: {token: fake}
"""


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def plain(value: Any) -> Any:
    """The value with every secret marker removed, recursively."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@dataclass
class Registration:
    """One registered resource: what the engine would see."""

    type: str
    name: str
    urn: str
    custom: bool
    inputs: dict
    parent: str
    provider: str
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    replace_on_changes: list[str]
    ignore_changes: list[str]
    additional_secret_outputs: list[str]
    # The request's inputs as sent, unknowns (during a preview) and secret envelopes included.
    raw_inputs: dict = field(default_factory=dict)
    # Transforms the SDK registered for the resource (callback references).
    raw_transforms: list = field(default_factory=list)
    # The aliases as the SDK sends them (name, type, parentUrn, ...).
    aliases: list = field(default_factory=list)

    @property
    def values(self) -> dict:
        """Inputs without secret markers."""
        return plain(self.inputs)

    def secret(self, key: str) -> bool:
        return is_secret(self.inputs.get(key))


def _fake_string(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return (digest * (length // len(digest) + 1))[:length]


class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs back as outputs and fills in what the real providers would compute."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        outputs = dict(args.inputs)
        name = plain(args.inputs.get("name", args.name))
        if args.typ == "docker:index/volume:Volume":
            outputs["mountpoint"] = f"/var/lib/docker/volumes/{name}/_data"
        elif args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = "sha256:" + _fake_string(name, 64)
        elif args.typ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
            outputs["result"] = _fake_string(args.name, int(args.inputs["length"]))
        elif args.typ == "command:local:Command":
            outputs["stdout"] = FAKE_KUBECONFIG if "kind get kubeconfig" in str(args.inputs.get("create")) else ""
            outputs["stderr"] = ""
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list]]:
        return {}, None


class PreviewMocks(RecordingMocks):
    """A preview where nothing exists yet: no resource has outputs, so everything computed from
    one is unknown, as in a real preview of a stack whose cluster the update has yet to create."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        return None, {}


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: RecordingMocks) -> None:
        super().__init__(mocks_)
        self.registrations: list[Registration] = []
        self.registered_outputs: dict[str, dict] = {}
        self.raw_registered_outputs: dict[str, dict] = {}  # unknowns (during a preview) kept

    def RegisterResourceOutputs(self, request):  # noqa: N802 (the gRPC method's name)
        # What a component hands register_outputs: the engine records it as its outputs.
        self.registered_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        self.raw_registered_outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    custom=request.custom,
                    inputs=rpc.deserialize_properties(request.object),
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    replace_on_changes=list(request.replaceOnChanges),
                    ignore_changes=list(request.ignoreChanges),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    raw_inputs=json_format.MessageToDict(request.object),
                    raw_transforms=list(request.transforms),
                    aliases=[json_format.MessageToDict(alias) for alias in request.aliases],
                )
            )
        return response


@dataclass
class ProgramRun:
    """What one run of a program registered and exported."""

    registrations: list[Registration]
    # URN -> what a component registered as its outputs
    registered_outputs: dict[str, dict] = field(default_factory=dict)
    raw_registered_outputs: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    error: Optional[BaseException] = None

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]



def resolve(value: Any) -> Any:
    """The resolved value of an input (Outputs nested in lists and dicts too), after the program ran."""
    return _sync_await(pulumi.Output.from_input(value).future())


def is_secret_output(value: Any) -> bool:
    return bool(_sync_await(pulumi.Output.from_input(value).is_secret()))


def run(
    program: Callable[[], Any],
    *,
    config: Optional[Mapping[str, str]] = None,
    stack: str = "dev",
    preview: bool = False,
    expect_error: bool = False,
    secret_keys: tuple[str, ...] = (),
    mocks_: Optional[RecordingMocks] = None,
) -> ProgramRun:
    """Run `program` under mocks with `config` (as the CLI hands it over) from the project dir.

    With expect_error, the run must fail: its error and what was registered before it are in
    the result. Without it, an error is raised as it is.
    """
    # A CliConfig knows which of its keys the stack file holds as secrets.
    secret_keys = (*secret_keys, *getattr(config, "secret_keys", ()))
    set_all_config(dict(config or {}), list(secret_keys))
    monitor = RecordingMonitor(mocks_ or RecordingMocks())
    result = ProgramRun(monitor.registrations, monitor.registered_outputs, monitor.raw_registered_outputs)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    try:
        with contextlib.chdir(PROJECT_DIR):
            _sync_await(run_pulumi_func(program))
        exports = pulumi.runtime.get_root_resource().outputs
        result.outputs = {name: resolve(value) for name, value in exports.items()}
        result.secret_outputs = {name for name, value in exports.items() if is_secret_output(value)}
    except Exception as error:  # noqa: BLE001 - handed to the test below
        if not expect_error:
            raise
        result.error = error
    finally:
        reset_options()
        set_all_config({}, [])
    if expect_error and result.error is None:
        raise AssertionError("the program ran without the error the test expects")
    return result


def config_error(config: Mapping[str, str], **options: Any) -> str:
    """Run `__main__.py` expecting a configuration error before any resource; the error's text."""
    from velero_pulumi.config import ConfigError

    result = run_main(config, expect_error=True, **options)
    assert result.registrations == [], "a resource was registered before the config error"
    assert isinstance(result.error, ConfigError), result.error
    return str(result.error)


def run_main(config: Mapping[str, str], **options: Any) -> ProgramRun:
    """Run `__main__.py` the way the Pulumi CLI does, with the given config."""
    return run(
        lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"), config=config, **options
    )
