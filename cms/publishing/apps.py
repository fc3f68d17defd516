from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "cms.publishing"
    label = "publishing"
    verbose_name = "静态网站发布"

    def ready(self):
        from cms.core import preview

        from . import signals  # noqa: F401
        from .preview import render_page_object

        preview.register(render_page_object)
