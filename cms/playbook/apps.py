from django.apps import AppConfig


class PlaybookConfig(AppConfig):
    name = "cms.playbook"
    label = "playbook"
    verbose_name = "政策手册"

    def ready(self):
        from . import checks, signals  # noqa: F401  (font check; public change notes when a chapter is published)
