"""realtier/run/gitserver.py: the https git host the package's TypeScript consumer adds the package
from. git's own client clones a tag from it, over TLS its CA bundle trusts."""

from __future__ import annotations

import os
import subprocess

from realtier.run.gitserver import GitServer, cgi_response


def git(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=tests", "-c", "user.email=tests@127.0.0.1", *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True)


def test_a_tag_of_a_published_repository_clones_over_https(tmp_path):
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    git("init", "--quiet", cwd=worktree)
    (worktree / "provider").mkdir()
    (worktree / "provider" / "PulumiPlugin.yaml").write_text("runtime: python\n")
    git("add", "--all", cwd=worktree)
    git("commit", "--quiet", "--message", "first", cwd=worktree)
    git("tag", "v0.1.0", cwd=worktree)
    (worktree / "provider" / "PulumiPlugin.yaml").write_text("runtime: nodejs\n")
    git("commit", "--quiet", "--all", "--message", "after the tag", cwd=worktree)
    with GitServer.start(tmp_path / "host", port=0) as host:
        host.publish(worktree, "velero-pulumi")
        assert host.url("velero-pulumi") == f"https://127.0.0.1:{host.port}/velero-pulumi.git"
        env = {**os.environ, "GIT_SSL_CAINFO": str(host.ca_bundle)}
        git("clone", "--quiet", "--branch", "v0.1.0", host.url("velero-pulumi"), str(tmp_path / "clone"), env=env)
    assert (tmp_path / "clone" / "provider" / "PulumiPlugin.yaml").read_text() == "runtime: python\n"


def test_a_cgi_answer_becomes_status_headers_and_body():
    assert cgi_response(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such repository") == (
        404, [("Content-Type", "text/plain")], b"no such repository")
    assert cgi_response(b"Content-Type: application/x-git-upload-pack-advertisement\n\n0000") == (
        200, [("Content-Type", "application/x-git-upload-pack-advertisement")], b"0000")
