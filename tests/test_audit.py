"""`make audit` (tools/audit.py): pip-audit over the installed pins, against an OSV service.

The real advisory service is not reachable from the test machine, so these tests stand up an
OSV-compatible service on loopback that knows one advisory, and run the real tool (pip-audit
included) against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "tools" / "audit.py"
DJANGO_VERSION = metadata.version("Django")

ADVISORY = {
    "schema_version": "1.6.0",
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001"],
    "summary": "SQL injection in a made-up code path (test advisory)",
    "affected": [
        {
            "package": {"name": "django", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
        }
    ],
}


class FakeOSV(BaseHTTPRequestHandler):
    advisories: dict[tuple[str, str], list] = {}
    queries: list[tuple[str, str]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = (body["package"]["name"], body["version"])
        type(self).queries.append(key)
        vulns = self.advisories.get(key)
        payload = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv():
    FakeOSV.advisories = {}
    FakeOSV.queries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOSV)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FakeOSV, f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()
    server.server_close()


def run_audit(url, ignore_file=None):
    env = dict(os.environ, AUDIT_IGNORE_FILE=str(ignore_file or ""))
    return subprocess.run(
        [sys.executable, str(AUDIT), "--osv-url", url, "--timeout", "10"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_audit_fails_on_a_known_vulnerability_and_names_package_advisory_and_fix(osv):
    service, url = osv
    service.advisories[("django", DJANGO_VERSION)] = [ADVISORY]
    result = run_audit(url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"django {DJANGO_VERSION}: PYSEC-2099-1 (CVE-2099-0001)" in result.stdout
    assert "fixed in: 99.0" in result.stdout
    # Every installed distribution was asked about, the dependencies of our dependencies too.
    asked = {name for name, _ in service.queries}
    assert {"django", "wagtail", "pillow", "beautifulsoup4"} <= asked


def test_audit_passes_when_the_service_knows_nothing_against_the_pins(osv):
    service, url = osv
    service.advisories[("django", "1.0")] = [ADVISORY]  # an old version we do not run
    result = run_audit(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerability in" in result.stdout


def test_audit_says_nothing_was_audited_when_the_service_cannot_be_reached():
    result = run_audit("http://127.0.0.1:9/v1/query")
    assert result.returncode == 2
    assert "NOT AUDITED" in result.stdout and "127.0.0.1:9" in result.stdout


def test_an_accepted_advisory_needs_a_reason(osv, tmp_path):
    service, url = osv
    service.advisories[("django", DJANGO_VERSION)] = [ADVISORY]
    ignore = tmp_path / "audit-ignore.txt"
    ignore.write_text("PYSEC-2099-1\n", encoding="utf-8")
    result = run_audit(url, ignore)
    assert result.returncode == 1 and "PYSEC-2099-1 has no reason" in (result.stdout + result.stderr)
    ignore.write_text("PYSEC-2099-1  # the code path is not used: we never call it (test)\n", encoding="utf-8")
    result = run_audit(url, ignore)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepted (audit-ignore.txt): PYSEC-2099-1: the code path is not used" in result.stdout
