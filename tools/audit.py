#!/usr/bin/env python
"""Audit the installed dependencies for known vulnerabilities (`make audit`).

    .venv/bin/python tools/audit.py [--osv-url URL] [--timeout S]

What it audits: the `.venv` that `make install` built from the pinned requirements, every
installed distribution (so the dependencies of our dependencies too). It first checks that each
pin in requirements.txt and requirements-dev.txt is installed at exactly its version, so the
audit is of the pins and not of something older or newer left in the venv.

How: pip-audit against an OSV service (https://osv.dev's query API by default; AUDIT_OSV_URL or
--osv-url for a mirror, which a network that cannot reach osv.dev needs).

Exit codes:
  0  no known vulnerability;
  1  at least one known vulnerability (each printed with the fixed versions), or a pin is not installed;
  2  the advisory service could not be reached: NOTHING WAS AUDITED.

Known, accepted advisories go in tools/audit-ignore.txt, one ID a line with the reason after '#';
an entry without a reason is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OSV_URL = "https://api.osv.dev/v1/query"
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
IGNORE_FILE = Path(os.environ.get("AUDIT_IGNORE_FILE") or ROOT / "tools" / "audit-ignore.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> list[tuple[str, str, int]]:
    """(name, version, line) for every exact pin in a requirements file, following -r includes."""
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            continue  # the included file is audited on its own
        match = PIN.match(line)
        if not match:
            raise SystemExit(f"{path.name}:{number}: not an exact pin (name==version): {line}")
        found.append((match.group(1), match.group(3), number))
    return found


def check_pins_installed() -> list[str]:
    problems = []
    for path in REQUIREMENTS:
        for name, version, number in pins(path):
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                problems.append(f"{path.name}:{number}: {name}=={version} is not installed (run make install)")
                continue
            if installed != version:
                problems.append(
                    f"{path.name}:{number}: {name}=={version} is pinned but {installed} is installed (run make install)"
                )
    return problems


def ignored() -> dict[str, str]:
    if not IGNORE_FILE.exists():
        return {}
    entries = {}
    for number, raw in enumerate(IGNORE_FILE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{IGNORE_FILE.name}:{number}: {vuln_id.strip()} has no reason after '#'")
        entries[vuln_id.strip()] = reason.strip()
    return entries


def reachable(url: str, timeout: float) -> str | None:
    """None when the OSV API answers a query; otherwise why not."""
    if not url.startswith(("https://", "http://")):
        return "the URL must start with https:// (or http:// for a mirror on this network)"
    query = json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "0"}).encode()
    request = urllib.request.Request(url, data=query, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, above
            json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return str(getattr(error, "reason", error))
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osv-url", default=os.environ.get("AUDIT_OSV_URL") or DEFAULT_OSV_URL)
    parser.add_argument("--timeout", type=float, default=15)
    args = parser.parse_args()

    problems = check_pins_installed()
    if problems:
        print("The venv does not match the pinned requirements:", *problems, sep="\n  ")
        return 1
    accepted = ignored()

    why = reachable(args.osv_url, args.timeout)
    if why:
        print(
            f"NOT AUDITED: the advisory service {args.osv_url} cannot be reached ({why}).\n"
            "Set AUDIT_OSV_URL to an OSV mirror this machine can reach, or run make audit where osv.dev answers."
        )
        return 2

    command = [
        sys.executable, "-m", "pip_audit",
        "--vulnerability-service", "osv", "--osv-url", args.osv_url,
        "--format", "json", "--desc", "on", "--progress-spinner", "off", "--strict",
        "--timeout", str(int(args.timeout)),
    ]  # fmt: skip
    for vuln_id in accepted:
        command += ["--ignore-vuln", vuln_id]
    result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - our interpreter, fixed arguments
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print("pip-audit did not finish:", result.stderr.strip() or result.stdout.strip(), sep="\n")
        return 2 if "connect" in result.stderr.lower() else 1

    dependencies = report.get("dependencies", [])
    found = [(dep, vuln) for dep in dependencies for vuln in dep.get("vulns", [])]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    for vuln_id, reason in accepted.items():
        print(f"accepted ({IGNORE_FILE.name}): {vuln_id}: {reason}")
    if skipped:
        print("Not audited:", *(f"{d['name']}: {d['skip_reason']}" for d in skipped), sep="\n  ")
    if not found:
        print(f"No known vulnerability in {len(dependencies)} installed distributions ({args.osv_url}).")
        return 1 if skipped else 0

    print(f"{len(found)} known vulnerabilities in the installed distributions ({args.osv_url}):")
    for dep, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"  {dep['name']} {dep['version']}: {vuln['id']}" + (f" ({aliases})" if aliases else ""))
        print(f"    fixed in: {fixes}")
        if vuln.get("description"):
            print(f"    {vuln['description'][:300]}")
    print("Upgrade the pin in requirements*.txt, or accept the advisory in tools/audit-ignore.txt with a reason.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
