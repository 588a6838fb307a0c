"""scripts/location_status.py: what ./scripts/up says after an up that waited in vain for the
storage location, read from a stand-in API server with the project's own client."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import pytest
import yaml

from .harness import PROJECT_DIR

PATH = "/apis/velero.io/v1/namespaces/velero/backupstoragelocations/default"


@pytest.fixture
def api_server(tmp_path):
    """An API server that answers the location's path with `served["location"]` (404 if None)."""
    served = {"location": None}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = served["location"] if self.path == PATH else None
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-brrtrouter-dev",
        "contexts": [{"name": "kind-brrtrouter-dev", "context": {"cluster": "kind", "user": "kind"}}],
        "clusters": [{"name": "kind", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "kind", "user": {"token": "t"}}],
    }))
    yield served, kubeconfig
    server.shutdown()


def status(kubeconfig) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT_DIR / "scripts" / "location_status.py"), "kind-brrtrouter-dev"],
                          env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=30)


def test_an_unavailable_location_is_told_in_veleros_words(api_server):
    served, kubeconfig = api_server
    reason = 'BackupStorageLocation "default" is unavailable: dial tcp: lookup brrtrouter-minio: no such host'
    served["location"] = {"status": {"phase": "Unavailable", "message": reason}}
    result = status(kubeconfig)
    assert result.returncode == 1
    assert f"the storage location default is Unavailable: {reason}" in result.stderr
    assert "then run ./scripts/up again" in result.stderr


def test_an_available_location_or_none_at_all_says_nothing_to_worry_about(api_server):
    served, kubeconfig = api_server
    served["location"] = {"status": {"phase": "Available"}}
    available = status(kubeconfig)
    assert (available.returncode, available.stderr) == (0, "")
    served["location"] = None  # an up that failed before it made the location
    absent = status(kubeconfig)
    assert (absent.returncode, absent.stdout, absent.stderr) == (2, "", "")
