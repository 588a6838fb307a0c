"""Throw-away certificates for servers the real tier starts on 127.0.0.1 (openssl, EC P-256)."""

from __future__ import annotations

import subprocess
from pathlib import Path

EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def make_ca(folder: Path, common_name: str, days: int = 7) -> None:
    """ca.key and ca.crt in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl(folder, "req", "-x509", *EC_KEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", str(days),
            "-subj", f"/CN={common_name}")


def sign(folder: Path, name: str, subject: str, extensions: str, days: int = 7) -> None:
    """name.key and name.crt in folder, signed by its CA, with these X.509 v3 extensions."""
    (folder / f"{name}.ext").write_text(extensions + "\n")
    openssl(folder, "req", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
    openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", str(days), "-extfile", f"{name}.ext")
