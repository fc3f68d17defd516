from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """Our own user model from the first migration, so fields can be added later without surgery."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"
