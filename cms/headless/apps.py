from django.apps import AppConfig


class HeadlessConfig(AppConfig):
    name = "cms.headless"
    label = "headless"
    verbose_name = "读取接口"
