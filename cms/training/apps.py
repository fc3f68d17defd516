from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "cms.training"
    label = "training"
    verbose_name = "培训"
