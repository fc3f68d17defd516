from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "cms.governance"
    label = "governance"
    verbose_name = "治理模式"
