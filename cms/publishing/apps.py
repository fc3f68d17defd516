from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "cms.publishing"
    label = "publishing"
    verbose_name = "静态网站发布"

    def ready(self):
        from . import signals  # noqa: F401
