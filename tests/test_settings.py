"""Production refuses to start without its secrets, and passes Django's deployment checks with them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "SECRET_KEY": "x" * 60 + "-prod-test-key-not-used-anywhere",
    "ALLOWED_HOSTS": "cms.xiaoge.example.cn",
    "PUBLIC_BASE_URL": "https://xiaoge.example.cn",
}


def run_manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k not in PROD_ENV and k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "cms.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", list(PROD_ENV))
def test_production_names_the_missing_variable(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "missing" in result.stderr


def test_production_passes_the_deploy_check(tmp_path):
    # A database of its own, not migrated: the check must not depend on what a developer's db.sqlite3 holds
    # (`check --deploy` also warns while the site settings give readers no contact: tests/test_contact.py).
    env = {**PROD_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_slugs_are_readable_pinyin():
    from cms.core.text import pinyin_slug

    assert pinyin_slug("陶然亭的小哥") == "tao-ran-ting-de-xiao-ge"
    assert pinyin_slug("“1+n”服务矩阵") == "1n-fu-wu-ju-zhen"
    assert pinyin_slug("骑士\u200b驿站") == "qi-shi-yi-zhan"
    assert len(pinyin_slug("很长的标题" * 40)) <= 80
