from .base import *  # noqa: F403

DEBUG = True
# A development-only key; production reads SECRET_KEY from the environment and refuses to start without it.
SECRET_KEY = "dev-only-not-secret-3k2j4h5g6f7d8s9a"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
