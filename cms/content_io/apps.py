from django.apps import AppConfig


class ContentIOConfig(AppConfig):
    name = "cms.content_io"
    label = "content_io"
    verbose_name = "内容导入导出"
