"""Serve the live static release (site/current) for development. Production uses nginx (deploy/nginx.conf)."""

import functools
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class ReleaseHandler(SimpleHTTPRequestHandler):
    """Resolves site/current on every request, so a swap is visible at once, like nginx following the link."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".webmanifest": "application/manifest+json",
        ".bin": "application/octet-stream",
    }

    def translate_path(self, path):
        self.directory = os.path.realpath(Path(settings.SITE_DIR) / "current")
        found = super().translate_path(path)
        # The JSON API's folders (/api/v2/pages/12/) hold index.json, as nginx's `index` serves them.
        if os.path.isdir(found) and os.path.isfile(os.path.join(found, "index.json")):
            return os.path.join(found, "index.json")
        return found

    def send_error(self, code, message=None, explain=None):
        page = Path(settings.SITE_DIR) / "current" / "404.html"
        if code == 404 and page.exists():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class Command(BaseCommand):
    help = "在本机提供 site/current（开发用；生产环境请用 nginx）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, **options):
        handler = functools.partial(ReleaseHandler, directory=str(Path(settings.SITE_DIR) / "current"))
        server = ThreadingHTTPServer((options["host"], options["port"]), handler)
        self.stdout.write(f"静态网站：http://{options['host']}:{options['port']}/（site/current）")
        server.serve_forever()
