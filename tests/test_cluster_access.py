"""How the preflight reads a kubeconfig: contexts across $KUBECONFIG files, inline and file
certificates, tokens, and exec credential plugins (run as kubectl runs them)."""

from __future__ import annotations

import base64
import stat

import pytest
import yaml

from velero_pulumi.config import cluster
from velero_pulumi.config.cluster import ClusterUnreachable, cluster_access


def kubeconfig(contexts, clusters, users, current=None) -> dict:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_kubeconfig_secret_with_inline_certificates():
    text = yaml.safe_dump(kubeconfig(
        {"prod": {"cluster": "c", "user": "u"}},
        {"c": {"server": "https://10.0.0.1:6443/", "certificate-authority-data": b64("CA")}},
        {"u": {"client-certificate-data": b64("CERT"), "client-key-data": b64("KEY")}},
        current="prod"))
    access = cluster_access(text, None)
    assert (access.server, access.ca, access.client_cert, access.client_key, access.token) == (
        "https://10.0.0.1:6443", b"CA", b"CERT", b"KEY", None)


def test_a_context_is_found_across_the_kubeconfig_files(monkeypatch, tmp_path):
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(yaml.safe_dump(kubeconfig({"dev": {"cluster": "d", "user": "d"}}, {"d": {"server": "https://d"}}, {"d": {}})))
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    second.write_text(yaml.safe_dump(kubeconfig(
        {"brrtrouter-prod": {"cluster": "p", "user": "p"}},
        {"p": {"server": "https://p.example.com", "insecure-skip-tls-verify": True}},
        {"p": {"tokenFile": str(token_file)}})))
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    access = cluster_access(None, "brrtrouter-prod")
    assert (access.server, access.insecure, access.token) == ("https://p.example.com", True, "file-token")


def test_an_exec_plugin_gives_the_token_and_sees_its_environment(tmp_path):
    plugin = tmp_path / "get-token"
    plugin.write_text('#!/bin/sh\nprintf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
                      '"status":{"token":"%s-%s"}}\' "$CLUSTER" "$1"\n')
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    text = yaml.safe_dump(kubeconfig(
        {"eks": {"cluster": "e", "user": "e"}}, {"e": {"server": "https://eks"}},
        {"e": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "args": ["prod"],
                        "env": [{"name": "CLUSTER", "value": "brrtrouter"}]}}},
        current="eks"))
    assert cluster_access(text, None).token == "brrtrouter-prod"


@pytest.mark.parametrize(("user", "expected"), [
    ({"exec": {"command": "/nonexistent/get-token"}}, "the credential plugin '/nonexistent/get-token' did not run"),
    ({"exec": {"command": "false"}}, "the credential plugin 'false' failed"),
    ({"auth-provider": {"name": "gcp"}}, "uses a legacy auth-provider"),
])
def test_credential_problems_are_said_in_words(user, expected):
    text = yaml.safe_dump(kubeconfig({"x": {"cluster": "c", "user": "u"}}, {"c": {"server": "https://c"}}, {"u": user}, "x"))
    with pytest.raises(ClusterUnreachable, match=expected):
        cluster_access(text, None)


def test_an_unknown_context_or_no_kubeconfig_is_said(monkeypatch, tmp_path):
    text = yaml.safe_dump(kubeconfig({}, {}, {}))
    with pytest.raises(ClusterUnreachable, match="the kubeconfig has no context 'brrtrouter-prod'"):
        cluster_access(text, "brrtrouter-prod")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(ClusterUnreachable, match="no kubeconfig at"):
        cluster_access(None, "brrtrouter-prod")


def test_discovery_of_an_unserved_group_is_empty_and_other_answers_are_errors(monkeypatch):
    import urllib.error

    def answer(status):
        def urlopen(request, context=None, timeout=None):
            raise urllib.error.HTTPError(request.full_url, status, "x", {}, None)
        return urlopen

    access = cluster.ClusterAccess(server="https://c", token="t")
    monkeypatch.setattr(cluster.urllib.request, "urlopen", answer(404))
    assert cluster.served_kinds(access, "monitoring.coreos.com/v1") == set()
    monkeypatch.setattr(cluster.urllib.request, "urlopen", answer(403))
    with pytest.raises(ClusterUnreachable, match="answered 403 to GET /apis/monitoring.coreos.com/v1"):
        cluster.served_kinds(access, "monitoring.coreos.com/v1")
