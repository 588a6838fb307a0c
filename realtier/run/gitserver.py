"""A git repository host on 127.0.0.1 over https (https.py): git's own smart-HTTP server, `git
http-backend`, behind a small CGI bridge, so that `pulumi package add <host>/<repo>.git/<path>@<tag>`
(go-git's clone) runs here, where no git host can be reached."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from .https import HttpsServer


def git(*args: str, cwd: Optional[Path] = None, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """git, with an identity of the real tier's own for its commits."""
    return subprocess.run(["git", "-c", "user.name=real tier", "-c", "user.email=real-tier@127.0.0.1", *args], cwd=cwd,
                          env=None if env is None else {**os.environ, **env}, check=True, capture_output=True, text=True)


def tagged_repository(worktree: Path, tag: str) -> None:
    """`worktree`'s files as a git repository's one commit, tagged `tag`."""
    git("init", "--quiet", cwd=worktree)
    git("add", "--all", cwd=worktree)
    git("commit", "--quiet", "--message", tag, cwd=worktree)
    git("tag", tag, cwd=worktree)


def cgi_response(output: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """A CGI program's output as (status, headers, body)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in output:
            head, body = output.split(separator, 1)
            break
    else:
        head, body = output, b""
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers.append((name, value.strip()))
    return status, headers, body


HTTPS_PORT = 443


@dataclass
class GitServer(HttpsServer):
    """Bare repositories in root/repositories, served read-only at https://127.0.0.1/<name>.git.

    On https's own port, so that URLs carry no port: the Pulumi CLI names a package's plugin folder
    after its URL's host, and Python refuses a virtualenv whose path holds a ':' (the PATH separator)."""

    @property
    def repositories(self) -> Path:
        return self.root / "repositories"

    def environment(self) -> dict[str, str]:
        """For Go clients (the Pulumi CLI's go-git) and git's own (pip's git+https)."""
        return {**super().environment(), "GIT_SSL_CAINFO": str(self.ca_bundle)}

    def url(self, repository: str) -> str:
        host = "127.0.0.1" if self.port == HTTPS_PORT else f"127.0.0.1:{self.port}"
        return f"https://{host}/{repository}.git"

    @classmethod
    def start(cls, root: Path, port: int = HTTPS_PORT) -> "GitServer":
        return cls(root, listen_port=port)._started()

    def publish(self, worktree: Path, repository: str) -> None:
        """A bare clone of `worktree` (its branches and tags), to serve as <repository>.git."""
        bare = self.repositories / f"{repository}.git"
        shutil.rmtree(bare, ignore_errors=True)
        git("clone", "--quiet", "--bare", str(worktree), str(bare))

    def _start(self) -> None:
        self.repositories.mkdir(parents=True, exist_ok=True)
        project_root = str(self.repositories)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the base class's names
                self._backend()

            def do_POST(self) -> None:  # noqa: N802
                self._backend()

            def _backend(self) -> None:
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                environment = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": project_root,
                    "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command, "PATH_INFO": path,
                    "QUERY_STRING": query, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                }
                backend = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True,
                                         timeout=120)
                status, headers, payload = cgi_response(backend.stdout)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
                pass

        self._serve(Handler, "brrtrouter-git-host-ca")
