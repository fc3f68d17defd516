"""Settings shared by every environment. Nothing secret lives here: secrets come from the environment."""

import os
import re
from pathlib import Path

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

INSTALLED_APPS = [
    "cms.users",
    "cms.images",
    "cms.documents",
    "cms.core",
    "cms.home",
    "cms.stories",
    "cms.playbook",
    "cms.governance",
    "cms.training",
    "cms.editorial",
    "cms.headless",
    "cms.content_io",
    "cms.publishing",
    "wagtail.api.v2",
    "rest_framework",
    "corsheaders",
    "csp",
    "axes",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
]

# Background tasks (static builds, Wagtail's own tasks): stored in the database and run by
# `manage.py db_worker`, which `make run` starts. Tests run them immediately.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "cms.core.middleware.CurrentRequestMiddleware",
    "cms.core.middleware.PublishRefusedMiddleware",  # a refusal of the publishing gate as a message, not a 500
    "csp.middleware.CSPMiddleware",
    "cms.core.middleware.AdminScriptPolicyMiddleware",  # after CSPMiddleware: it marks the response first
    "cms.core.middleware.PermissionsPolicyMiddleware",
    # Last: django-axes locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "site_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.core.context_processors.public_site",
            ],
        },
    },
]

WSGI_APPLICATION = "cms.wsgi.application"

# SQLite by default (a git-ignored file); PostgreSQL when DATABASE_URL is set.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the site server read while the CMS writes; a busy timeout avoids "database is locked".
    # IMMEDIATE: a transaction takes the write lock when it begins, so it waits (the busy timeout) for
    # another writer. A deferred one that read first fails at once with "database is locked" when it
    # comes to write after another process wrote (Wagtail's save and publish: 10 of 167 form posts with
    # ten editors at once, bench/editors_load.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
WAGTAILIMAGES_IMAGE_MODEL = "images.CustomImage"
WAGTAILDOCS_DOCUMENT_MODEL = "documents.CustomDocument"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# The project's own translations: what Wagtail's zh-Hans catalogs lack or say badly (locale/UPSTREAM.md).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The program's time zone only: the account page then asks no one to pick among 600 zones in English.
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]
WAGTAIL_I18N_ENABLED = False

STATICFILES_DIRS = [BASE_DIR / "site_templates" / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (site.3f2a….css) so a release's assets can be cached for a year.
    "staticfiles": {"BACKEND": "cms.publishing.storage.StaticStorage"},
}
# Several CMS machines sharing one database: uploads and renditions on a private S3 bucket
# ("s3://bucket/prefix"; the S3 client's standard AWS_* settings, as for PUBLISH_TARGETS). Unset: MEDIA_ROOT.
MEDIA_STORAGE_URL = os.environ.get("MEDIA_STORAGE_URL", "").strip()
if MEDIA_STORAGE_URL:
    from cms.core.media_storage import storage_options

    STORAGES["default"] = {
        "BACKEND": "cms.core.media_storage.MediaStorage",
        "OPTIONS": storage_options(MEDIA_STORAGE_URL),
    }

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "小哥 · 快递小哥参与社区治理"
# Approval publishes the revision the reviewer approved, not one saved during the review (cms/core/gate.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "cms.core.gate.publish_reviewed_revision"
# Slugs are readable ASCII: pinyin of the title (cms.core.slugs), never Chinese characters in URLs.
WAGTAIL_ALLOW_UNICODE_SLUGS = False
# The admin's search: Wagtail's database backend (SQLite FTS5 or PostgreSQL) with Chinese split into terms by
# the project's analyzer, as the static site's search does (cms/core/search_backend.py).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.core.search_backend"}}
# Draftail, refusing a posted value that is not its JSON (raw HTML) with a field error instead of a 500.
WAGTAILADMIN_RICH_TEXT_EDITORS = {"default": {"WIDGET": "cms.core.widgets.CheckedDraftailRichTextArea"}}
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Uploads: only these types, at most 10 MB, and at most 40 million pixels (decompression bombs).
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "ods", "pdf", "pptx", "txt", "xlsx"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILIMAGES_FORMAT_CONVERSIONS = {"bmp": "jpeg", "webp": "webp"}
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_PASSWORD_RESET_ENABLED = False

# The address the public reaches the static site at. Every absolute URL in a release uses it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "https://xiaoge.example.cn").rstrip("/")

STORIES_PER_PAGE = 10

# The static public site: releases, manifests and the `current` symlink live here.
SITE_DIR = Path(os.environ.get("SITE_DIR", BASE_DIR / "site"))
SITE_RELEASES_KEEP = int(os.environ.get("SITE_RELEASES_KEEP", "5"))
# Publish targets beyond the local release folder (cms/publishing/targets/, docs/operations.md):
# "s3://bucket/prefix", separated by spaces or commas. The S3 client reads its standard AWS_* settings.
PUBLISH_TARGETS = [t for t in re.split(r"[\s,]+", os.environ.get("PUBLISH_TARGETS", "")) if t]
PUBLISH_RETRIES = int(os.environ.get("PUBLISH_RETRIES", "8"))
# After a sync, the changed URLs go to a CDN: a command (URLs on its standard input) and/or a webhook (POST).
PUBLISH_PURGE_COMMAND = os.environ.get("PUBLISH_PURGE_COMMAND", "")
PUBLISH_PURGE_WEBHOOK = os.environ.get("PUBLISH_PURGE_WEBHOOK", "")
# Static files served at fixed (unhashed) URLs, copied into every release.
SITE_EXTRA_FILES: list[str] = []
SITE_AUTO_BUILD = os.environ.get("SITE_AUTO_BUILD", "true").lower() != "false"
WAGTAILDOCS_SERVE_METHOD = "direct"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # The task worker logs every task it runs at INFO; only problems are worth reading.
    "loggers": {name: {"level": "WARNING"} for name in ("django_tasks", "django_tasks_db")},
}

# The read API (/api/v2/): cross-origin reads from these origins only (comma-separated, e.g.
# "https://mp.example.cn,https://portal.example.gov.cn"); responses carry ETags.
CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("API_CORS_ORIGINS", "").split(",") if o.strip()]
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False
WAGTAILAPI_BASE_URL = os.environ.get("WAGTAILAPI_BASE_URL", "")
WAGTAILAPI_LIMIT_MAX = 100
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# Share links: how many hours a link to a draft stays valid.
SHARE_LINK_HOURS = int(os.environ.get("SHARE_LINK_HOURS", "72"))

# Logins: after 5 failures for one user name from one address, that user name is locked out at that
# address for an hour (django-axes). Not by user name alone: anyone anywhere could then lock `admin` out
# for an hour; not by address alone: one editor's typos would lock a whole office behind one address.
# The trade-off (docs/operations.md): guesses from many addresses are not added up. The lockout page is
# in Chinese.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one combination: user name and address together
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_RESET_ON_SUCCESS = True

# Content-Security-Policy of the CMS (django-csp). Wagtail's admin still needs inline styles, and inline
# scripts for its widgets under /admin/ only (cms.core.middleware.AdminScriptPolicyMiddleware); elsewhere
# scripts come from the CMS only. The public static site has its own, stricter policy in deploy/nginx.conf.
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no avatars fetched from a third party
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "manifest-src": ["'self'"],
    }
}
PERMISSIONS_POLICY = "geolocation=(), camera=(), microphone=(), payment=(), usb=()"
# Never framed: Wagtail's own preview views allow their same-origin iframe (and CSP frame-ancestors
# 'self' above says the same to current browsers).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
