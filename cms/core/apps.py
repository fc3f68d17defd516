from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cms.core"
    label = "core"
    verbose_name = "公共"

    def ready(self):
        from wagtail.signals import pre_page_move

        from cms.core import checks  # noqa: F401  (the public site's contact, in `check --deploy`)
        from cms.core.gate import before_move

        # Every move (the admin's, bulk move, code) sends this before anything changes.
        pre_page_move.connect(before_move, dispatch_uid="xiaoge-gate-move")
