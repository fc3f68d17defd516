"""Serving a built release on loopback and driving Debian's Chromium at it (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NEEDS_CHROMIUM = pytest.mark.skipif(
    not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class Quiet(SimpleHTTPRequestHandler):
    """Serves the release like deploy/nginx.conf does: the .br or .gz twin when the browser accepts it."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".webmanifest": "application/manifest+json",
    }

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the redirect to the address with a slash
            path = path / ("index.json" if (path / "index.json").is_file() else "index.html")
        accepted = self.headers.get("Accept-Encoding", "")
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            twin = path.with_name(path.name + suffix)
            if encoding in accepted and path.is_file() and twin.is_file():
                data = twin.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(str(path)))
                self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Vary", "Accept-Encoding")
                self.end_headers()
                return io.BytesIO(data)
        return super().send_head()


@contextlib.contextmanager
def serve(folder: Path):
    """The folder over HTTP on 127.0.0.1 (a random port); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
