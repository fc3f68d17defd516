from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "cms.documents"
    label = "documents"
    verbose_name = "文档"
