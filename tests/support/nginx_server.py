"""Runs the repository's nginx configuration for real on loopback, for the tests and bench/load_publish.py.

`run_nginx(work, site_root)` serves a release with deploy/nginx.conf; with `tls=True` it also puts
deploy/nginx-tls.conf in front (HTTP that only redirects, HTTPS that proxies to the site server),
with a throwaway self-signed certificate made by openssl.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS_NGINX = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (.ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"nginx stopped: {proc.stderr.read().decode(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port}")


@dataclass
class Nginx:
    site: str  # deploy/nginx.conf's own listener, plain HTTP
    http: str | None = None  # the TLS front's HTTP listener (redirects only)
    https: str | None = None  # the TLS front's HTTPS listener
    certificate: Path | None = None
    http_port: int | None = None
    https_port: int | None = None


def self_signed_certificate(work: Path, host: str = "localhost") -> tuple[Path, Path]:
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def run_nginx(work: Path, site_root: Path, *, tls: bool = False, host: str = "localhost", connections: int = 64):
    """nginx serving site_root until the block ends; its error log is work/error.log. `connections`: each
    worker's limit (a load test needs more than a test's 64)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = (
        (ROOT / "deploy" / "nginx.conf")
        .read_text()
        .replace("XIAOGE_LISTEN", f"127.0.0.1:{port}")
        .replace("XIAOGE_SITE_ROOT", str(site_root))
    )
    result = Nginx(site=f"http://127.0.0.1:{port}")
    if tls:
        cert, key = self_signed_certificate(work, host)
        http_port, https_port = free_port(), free_port()
        origin = f"https://{host}:{https_port}"
        replacements = {
            "XIAOGE_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "XIAOGE_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "XIAOGE_PUBLIC_ORIGIN": origin,
            "XIAOGE_TLS_CERT": str(cert),
            "XIAOGE_TLS_KEY": str(key),
            "XIAOGE_UPSTREAM": f"127.0.0.1:{port}",
        }
        front = (ROOT / "deploy" / "nginx-tls.conf").read_text()
        for name, value in replacements.items():
            front = front.replace(name, value)
        assert "XIAOGE_" not in front.replace("xiaoge_", ""), "a placeholder in deploy/nginx-tls.conf was not replaced"
        servers += "\n" + front
        result = Nginx(
            site=result.site,
            http=f"http://{host}:{http_port}",
            https=origin,
            certificate=cert,
            http_port=http_port,
            https_port=https_port,
        )
    conf = work / "nginx.conf"
    conf.write_text(
        f"""daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log; user root;
events {{ worker_connections {connections}; }}
http {{ include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
{servers} }}"""
    )
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stderr=subprocess.PIPE)
    try:
        wait_for(port, proc)
        if tls:
            wait_for(result.https_port, proc)
        yield result
    finally:
        proc.terminate()
        proc.wait(timeout=10)
