import re

from django.contrib.auth.models import AbstractUser

CHINESE = re.compile(r"[\u3400-\u9fff]")


class User(AbstractUser):
    """Our own user model from the first migration, so fields can be added later without surgery."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def get_full_name(self):
        """A Chinese name is written family name first, without a space (王小红); others as Django writes them."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if CHINESE.search(first + last):
            return f"{last}{first}"
        return super().get_full_name()
