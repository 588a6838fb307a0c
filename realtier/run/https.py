"""An https server on 127.0.0.1 with a throw-away CA, for what the real tier serves offline (a Helm
chart repository, a git repository). Python's urllib and Go programs (the Pulumi CLI, the
kubernetes provider, go-git) trust the CA through SSL_CERT_FILE, which `environment()` points at
the system bundle plus that CA."""

from __future__ import annotations

import http.server
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .pki import make_ca, sign
from .proctree import StartedService

SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


@dataclass
class HttpsServer(StartedService):
    root: Path
    # 0: a free port
    listen_port: int = 0
    server: Optional[http.server.ThreadingHTTPServer] = None
    thread: Optional[threading.Thread] = None
    port: int = 0

    @property
    def ca_bundle(self) -> Path:
        return self.root / "ca-bundle.pem"

    def environment(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.ca_bundle)}

    def _serve(self, handler: type[http.server.BaseHTTPRequestHandler], ca_name: str) -> None:
        """Serve `handler` on a free port of 127.0.0.1 over TLS, in a thread."""
        make_ca(self.root, ca_name, days=2)
        sign(self.root, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
             days=2)
        system = next((Path(p) for p in SYSTEM_CA_BUNDLES if Path(p).is_file()), None)
        self.ca_bundle.write_text((system.read_text() if system else "") + (self.root / "ca.crt").read_text())
        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.listen_port), handler)
        except OSError as error:
            raise OSError(f"cannot listen on 127.0.0.1:{self.listen_port}: {error}") from error
        self.port = self.server.server_address[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.root / "server.crt", self.root / "server.key")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            if self.thread is not None:  # shutdown() waits for serve_forever(), so only once it runs
                self.server.shutdown()
            self.server.server_close()
            self.server = None
