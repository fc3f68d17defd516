from taggit.models import TagBase

from cms.core.text import pinyin_slug


class Tag(TagBase):
    """A tag whose slug is readable pinyin, so tag pages get ASCII URLs like /stories/tag/qishi-yizhan/."""

    free_tagging = True

    class Meta:
        verbose_name = "标签"
        verbose_name_plural = "标签"

    def slugify(self, tag, i=None):
        slug = pinyin_slug(tag) or "tag"
        return f"{slug}-{i}" if i is not None else slug
