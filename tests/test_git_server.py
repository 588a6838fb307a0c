"""realtier/run/gitserver.py: the https git host the package's TypeScript consumer adds the package
from. git's own client clones a tag from it, over TLS its CA bundle trusts."""

from __future__ import annotations

from realtier.run.gitserver import GitServer, cgi_response, git, tagged_repository


def test_a_tag_of_a_published_repository_clones_over_https(tmp_path):
    worktree = tmp_path / "worktree"
    (worktree / "provider").mkdir(parents=True)
    (worktree / "provider" / "PulumiPlugin.yaml").write_text("runtime: python\n")
    tagged_repository(worktree, "v0.1.0")
    (worktree / "provider" / "PulumiPlugin.yaml").write_text("runtime: nodejs\n")
    git("commit", "--quiet", "--all", "--message", "after the tag", cwd=worktree)
    with GitServer.start(tmp_path / "host", port=0) as host:
        host.publish(worktree, "velero-pulumi")
        assert host.url("velero-pulumi") == f"https://127.0.0.1:{host.port}/velero-pulumi.git"
        git("clone", "--quiet", "--branch", "v0.1.0", host.url("velero-pulumi"), str(tmp_path / "clone"),
            env=host.environment())
    assert (tmp_path / "clone" / "provider" / "PulumiPlugin.yaml").read_text() == "runtime: python\n"


def test_a_cgi_answer_becomes_status_headers_and_body():
    assert cgi_response(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such repository") == (
        404, [("Content-Type", "text/plain")], b"no such repository")
    assert cgi_response(b"Content-Type: application/x-git-upload-pack-advertisement\n\n0000") == (
        200, [("Content-Type", "application/x-git-upload-pack-advertisement")], b"0000")
