import pytest
from django.conf import settings


@pytest.fixture(autouse=True, scope="session")
def _private_media_root(tmp_path_factory):
    """Uploads and renditions of this test run live in its own folder (runs can overlap on one machine)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield


@pytest.fixture
def tree(db):
    from tests.support.helpers import make_tree

    return make_tree()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Wagtail caches renditions by image id; ids repeat between tests, so each test starts with none."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def content(tmp_path, tree):
    """For the import tests: a good content/ tree, imported and published once; then good.md gets a new title
    that a refused import must not write (tests/support/import_fixtures.py: refused)."""
    from cms.content_io.importer import run_import
    from tests.support.import_fixtures import good_tree, story, write_files

    root = good_tree(tmp_path)
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    write_files(root, {"stories/good.md": story("改过的标题")})
    return root


CONTENT_RELEASE_BASE_URL = "https://xiaoge.example.cn"


@pytest.fixture(scope="session")
def content_release(tmp_path_factory):
    """A release of content/, built as `make setup` builds it (file database, own site folder), once per test
    session for the checks that read the whole real site (search recall, the validators)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    tmp = tmp_path_factory.mktemp("content-release")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
        "MEDIA_ROOT": str(tmp / "media"),
        "SITE_DIR": str(tmp / "site"),
        "SITE_AUTO_BUILD": "false",
        "PUBLIC_BASE_URL": CONTENT_RELEASE_BASE_URL,
    }
    for args in (
        ["migrate", "-v0"],
        ["bootstrap_site", "--no-admin"],
        ["import_content", "--publish", "--initial"],
        ["build_site"],
    ):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return (tmp / "site" / "current").resolve()
