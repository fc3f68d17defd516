"""Lighthouse (mobile profile) on every page type of a release built from content/, served on loopback.

    make lighthouse            # installs Lighthouse 12.2.3 into bench/lighthouse/node_modules (npm ci)

Builds the demo site from content/ into a work folder (its own SQLite database, media and releases),
serves the release with the repository's nginx configuration when nginx is installed (else with the
test server, which also serves the .br/.gz twins), runs Lighthouse with Debian's Chromium on each page
type and prints the four category scores. Targets: performance ≥ 95, accessibility 100, best practices
100, SEO 100. Loopback has no TLS, so the nginx copy drops HSTS and upgrade-insecure-requests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_env, free_port  # noqa: E402

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-dev-shm-usage"
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}


def run(*args, env, quiet=True):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=quiet, text=True)  # noqa: S603 - our commands
    if result.returncode:
        sys.exit(
            f"{' '.join(map(str, args))} failed:\n{(result.stdout or '')[-2000:]}\n{(result.stderr or '')[-3000:]}"
        )
    return result.stdout


def build(work: Path, keep: bool) -> tuple[Path, dict]:
    env = {**os.environ, **django_env(work)}
    python = sys.executable
    if not (keep and (work / "site" / "current").exists()):
        print("构建 content/ 的演示网站 …", flush=True)
        run(python, "manage.py", "migrate", "-v0", env=env)
        run(python, "manage.py", "bootstrap_site", "--no-admin", env=env)
        run(python, "manage.py", "import_content", "content", "--publish", "--initial", env=env)
        run(python, "manage.py", "build_site", "--full", env=env)
    return (work / "site" / "current").resolve(), env


def page_types(release: Path) -> dict[str, str]:
    """One address of each page type, found in the release itself."""

    def first(folder: str, depth: int = 1) -> str:
        base = release / folder
        for path in sorted(base.glob("/".join(["*"] * depth) + "/index.html")):
            rel = path.parent.relative_to(release).as_posix()
            if not any(
                part in ("page", "tag", "street", "print", "changes", "adoption") for part in rel.split("/")[1:]
            ):
                return f"/{rel}/"
        raise SystemExit(f"no page under {folder}")

    tag = sorted((release / "stories" / "tag").iterdir())[0].name
    return {
        "home": "/",
        "story": first("stories"),
        "stories": "/stories/",
        "tag": f"/stories/tag/{tag}/",
        "playbook": "/playbook/",
        "chapter": first("playbook"),
        "print": "/playbook/print/",
        "model": "/model/",
        "adoption": "/model/adoption/",
        "component": first("model"),
        "training": "/training/",
        "course": first("training"),
        "lesson": first("training", 2),
        "search": "/search/",
        "privacy": "/privacy/",
        "404": "/404.html",
    }


def serve(release: Path, work: Path):
    port = free_port()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx:
        server = (ROOT / "deploy" / "nginx.conf").read_text()
        server = server.replace("XIAOGE_LISTEN", f"127.0.0.1:{port}").replace("XIAOGE_SITE_ROOT", str(release))
        server = server.replace("; upgrade-insecure-requests", "")
        server = "\n".join(line for line in server.splitlines() if "Strict-Transport-Security" not in line)
        conf = work / "nginx.conf"
        conf.write_text(
            f"daemon off; pid {work / 'nginx.pid'}; error_log {work / 'nginx-error.log'};\n"
            f"events {{}}\nhttp {{ include /etc/nginx/mime.types; default_type application/octet-stream;"
            f" access_log off; client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};"
            f" uwsgi_temp_path {work}; scgi_temp_path {work};\n{server}\n}}\n"
        )
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])  # noqa: S603
        how = "nginx（deploy/nginx.conf）"
    else:
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.support.browser import serve; import time\n"
            f"with serve({str(release)!r}) as url: print(url, flush=True); time.sleep(10**6)"
        )
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)  # noqa: S603
        line = proc.stdout.readline().strip()
        port = int(line.rsplit(":", 1)[1])
        how = "测试服务器（带压缩）"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}", how


def lighthouse(url: str, out: Path) -> dict[str, int]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    env = {**os.environ, "CHROME_PATH": chromium}
    subprocess.run(  # noqa: S603
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}", f"--chrome-flags={CHROME_FLAGS}",
         "--only-categories=performance,accessibility,best-practices,seo", "--form-factor=mobile",
         "--max-wait-for-load=30000"],
        env=env, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(out.read_text())
    return {name: round((cat["score"] or 0) * 100) for name, cat in report["categories"].items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "xiaoge-lighthouse"))
    parser.add_argument("--keep", action="store_true", help="reuse the built site if present")
    parser.add_argument("--only", help="comma-separated page types")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: run `make lighthouse` (npm ci in bench/lighthouse)")
    work = Path(args.workdir)
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    release, _env = build(work, args.keep)
    pages = page_types(release)
    if args.only:
        pages = {k: v for k, v in pages.items() if k in args.only.split(",")}
    proc, base, how = serve(release, work)
    print(f"Lighthouse 12.2.3，移动端配置，{how}：{base}\n")
    print(f"{'页面类型':<10}{'性能':>6}{'无障碍':>8}{'最佳做法':>8}{'SEO':>6}  地址")
    missed = []
    try:
        for name, path in pages.items():
            scores = lighthouse(base + path, work / f"{name}.json")
            row = [scores["performance"], scores["accessibility"], scores["best-practices"], scores["seo"]]
            print(f"{name:<12}{row[0]:>6}{row[1]:>8}{row[2]:>10}{row[3]:>8}  {path}", flush=True)
            for key, value in scores.items():
                if value < TARGETS[key]:
                    missed.append(f"{name} {key} {value} < {TARGETS[key]}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print("\n目标：性能 ≥ 95，无障碍 100，最佳做法 100，SEO 100。")
    print("全部达到。" if not missed else "未达到：" + "；".join(missed))
    print(f"每页的完整报告（JSON）：{work}/<页面类型>.json")


if __name__ == "__main__":
    main()
