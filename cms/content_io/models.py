from django.db import models


class ContentSource(models.Model):
    """Which object a file in content/ became, and the digest of what it was made from.

    The key is the file's path inside content/ ("stories/liu-kuo.md", "streets.yaml#taoranting",
    "stories/images/lane.jpg"): the stable identity of a page, snippet or image across imports.
    """

    KIND_PAGE = "page"
    KIND_STREET = "street"
    KIND_PERSON = "person"
    KIND_IMAGE = "image"
    KIND_SETTINGS = "settings"
    KIND_CHOICES = [
        (KIND_PAGE, "页面"),
        (KIND_STREET, "街道"),
        (KIND_PERSON, "人物"),
        (KIND_IMAGE, "图片"),
        (KIND_SETTINGS, "网站设置"),
    ]

    key = models.CharField("内容路径", max_length=400, unique=True)
    kind = models.CharField("类型", max_length=20, choices=KIND_CHOICES)
    object_id = models.PositiveBigIntegerField("对象 ID")
    digest = models.CharField("摘要", max_length=64)
    updated_at = models.DateTimeField("最近导入", auto_now=True)

    class Meta:
        verbose_name = "内容来源"
        verbose_name_plural = "内容来源"
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return self.key
