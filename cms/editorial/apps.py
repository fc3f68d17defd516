from django.apps import AppConfig


class EditorialConfig(AppConfig):
    name = "cms.editorial"
    label = "editorial"
    verbose_name = "编辑流程"

    def ready(self):
        from . import wagtail_fixes

        wagtail_fixes.apply()
