import pytest
from django.conf import settings


@pytest.fixture(autouse=True, scope="session")
def _private_media_root(tmp_path_factory):
    """Uploads and renditions of this test run live in its own folder (runs can overlap on one machine)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield


@pytest.fixture
def tree(db):
    from tests.helpers import make_tree

    return make_tree()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Wagtail caches renditions by image id; ids repeat between tests, so each test starts with none."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
