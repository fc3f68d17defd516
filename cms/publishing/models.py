from django.contrib import admin
from django.db import models


class Release(models.Model):
    """One build of the public site: a folder under site/releases/ that is live, was live, or failed."""

    STATUS_BUILDING = "building"
    STATUS_LIVE = "live"
    STATUS_SUPERSEDED = "superseded"
    STATUS_FAILED = "failed"
    STATUS_PRUNED = "pruned"
    STATUS_CHOICES = [
        (STATUS_BUILDING, "构建中"),
        (STATUS_LIVE, "当前在线"),
        (STATUS_SUPERSEDED, "已被替换"),
        (STATUS_FAILED, "失败"),
        (STATUS_PRUNED, "已清理"),
    ]

    name = models.CharField("版本号", max_length=40, unique=True)
    status = models.CharField("状态", max_length=20, choices=STATUS_CHOICES, default=STATUS_BUILDING)
    full = models.BooleanField("全量构建", default=False)
    reason = models.CharField("触发原因", max_length=200, blank=True)
    started_at = models.DateTimeField("开始", auto_now_add=True)
    finished_at = models.DateTimeField("结束", null=True, blank=True)
    pages = models.PositiveIntegerField("页面数", default=0)
    files = models.PositiveIntegerField("文件数", default=0)
    rendered = models.PositiveIntegerField("重新渲染的文件", default=0)
    bytes = models.PositiveBigIntegerField("字节数", default=0)
    seconds = models.FloatField("用时（秒）", default=0)
    report = models.TextField("报告", blank=True)
    content_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="search_refreshes",
        help_text="只更新了搜索索引的版本：页面与这个版本相同",
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = "发布版本"
        verbose_name_plural = "发布版本"

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"

    @admin.display(description="用时")
    def duration(self) -> str:
        return f"{self.seconds:.2f} 秒"


class PageState(models.Model):
    """Which revision of a page the live static site shows, so the editor can say whether it is live there."""

    page_id = models.PositiveBigIntegerField(unique=True)
    revision_id = models.PositiveBigIntegerField(null=True)
    release = models.ForeignKey(Release, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = "页面发布状态"

    def __str__(self) -> str:
        return f"页面 {self.page_id}：版本 {self.revision_id}"


class BuildRequest(models.Model):
    """A change waiting for the next build. A burst of publishes becomes one build of all of them."""

    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200)
    full = models.BooleanField(default=False)
    done = models.BooleanField(default=False, db_index=True)
    # The pages a publish or unpublish changed. Empty (null) for every other change (a move, a slug, a view
    # restriction, a street, a person, a tag, the settings, a source): the build then reads the whole site.
    pages = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.reason


class TargetObject(models.Model):
    """An object a publish target (a bucket) holds: what the next sync compares the release with."""

    target = models.CharField("发布目标", max_length=300)
    key = models.CharField("路径", max_length=1024)
    md5 = models.CharField(max_length=32)
    # The sync from which the object was no longer in the live release (hashed files are kept a while).
    retired_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="target_object_unique")]
        verbose_name = "发布目标中的文件"

    def __str__(self) -> str:
        return f"{self.target} {self.key}"


class TargetSync(models.Model):
    """One copy of a live release to a publish target."""

    STATUS_DONE = "done"
    STATUS_FAILED = "failed"
    STATUS_CHOICES = [(STATUS_DONE, "已同步"), (STATUS_FAILED, "失败")]

    target = models.CharField("发布目标", max_length=300)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="target_syncs")
    seq = models.PositiveIntegerField(default=0)
    status = models.CharField("状态", max_length=20, choices=STATUS_CHOICES)
    uploaded = models.PositiveIntegerField("上传文件", default=0)
    bytes = models.PositiveBigIntegerField("上传字节", default=0)
    deleted = models.PositiveIntegerField("删除文件", default=0)
    seconds = models.FloatField("用时（秒）", default=0)
    report = models.TextField("报告", blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "发布目标同步"

    def __str__(self) -> str:
        return f"{self.target} ← {self.release.name}（{self.get_status_display()}）"
