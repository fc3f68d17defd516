from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
PUBLIC_BASE_URL = "https://xiaoge.example.cn"
WAGTAILADMIN_BASE_URL = "https://cms.xiaoge.example.cn"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_DIR = BASE_DIR / "var" / "test-site"
STATIC_ROOT = BASE_DIR / "var" / "test-static"
SITE_AUTO_BUILD = False  # tests that publish turn it on
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Tests log users in without a request (client.login); tests/test_hardening.py turns lockout back on.
AXES_ENABLED = False
