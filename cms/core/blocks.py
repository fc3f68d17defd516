"""StreamField blocks shared by every content app."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images import blocks as image_blocks
from wagtail.snippets.blocks import SnippetChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label="标题文字", max_length=120)
    level = blocks.ChoiceBlock(label="级别", choices=[("h2", "二级标题"), ("h3", "三级标题")], default="h2")

    class Meta:
        icon = "title"
        label = "小标题"
        template = "blocks/heading_block.html"
        preview_value = {"text": "从一张照片开始", "level": "h2"}
        description = "正文中的小标题，组成页面的目录结构"


class ImageBlock(image_blocks.ImageBlock):
    """Wagtail's ImageBlock, its image chooser labelled in the admin's language: Wagtail gives that child no label,
    and the admin shows its name, "Image". It deconstructs as Wagtail's own (migrations do not change)."""

    def __init__(self, required=True, **kwargs):
        super().__init__(required=required, **kwargs)
        self.child_blocks["image"].label = _("Image")


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageBlock(label="图片")
    caption = blocks.CharBlock(label="图片说明", required=False, max_length=255)
    credit = blocks.CharBlock(label="来源/摄影", required=False, max_length=120)

    class Meta:
        icon = "image"
        label = "图片"
        template = "blocks/captioned_image_block.html"
        description = "一张图片，附说明和来源；请填写替代文字，或标明为装饰性图片"


class GalleryBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="组图标题", required=False, max_length=120)
    images = blocks.ListBlock(CaptionedImageBlock(), label="图片", min_num=2, max_num=12)

    class Meta:
        icon = "image"
        label = "组图"
        template = "blocks/gallery_block.html"
        description = "两张以上的图片并排展示"


class QuoteBlock(blocks.StructBlock):
    """Words a real person said, exactly as a source prints them: the publishing gate refuses a quote whose
    speaker is not chosen, whose source is missing, or whose words are not among the source's recorded
    quotes of that person (cms/core/provenance.py)."""

    quote = blocks.TextBlock(label="引语", max_length=600, help_text="只能逐字使用出处里记录的原话")
    attribution = blocks.CharBlock(label="说话人", max_length=120)
    role = blocks.CharBlock(label="身份", required=False, max_length=120, help_text="按出处中的身份照写")
    speaker = SnippetChooserBlock("core.Person", label="说话人（人物库）", required=False)
    source = SnippetChooserBlock("core.Source", label="出处", required=False)

    class Meta:
        icon = "openquote"
        label = "引语"
        template = "blocks/quote_block.html"
        preview_value = {
            "quote": "他们是社区基层治理中非常重要的力量。",
            "attribution": "张辰",
            "role": "陶然亭街道党群工作部负责人",
        }


class FigureBlock(blocks.StructBlock):
    value = blocks.CharBlock(label="数字", max_length=20, help_text="如 498、147、1000 余")
    unit = blocks.CharBlock(label="单位", max_length=10, required=False, help_text="如 名、栋、家")
    label = blocks.CharBlock(label="说明", max_length=80, help_text="如 路客联盟成员")
    source = blocks.CharBlock(label="出处", max_length=120, required=False)

    class Meta:
        icon = "order"
        label = "数字框"
        template = "blocks/figure_block.html"
        preview_value = {"value": "498", "unit": "名", "label": "路客联盟成员"}


class CalloutBlock(blocks.StructBlock):
    tone = blocks.ChoiceBlock(
        label="类型",
        choices=[("info", "提示"), ("warning", "注意"), ("success", "经验")],
        default="info",
    )
    title = blocks.CharBlock(label="标题", max_length=80, required=False)
    body = blocks.RichTextBlock(label="内容", features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "warning"
        label = "提示框"
        template = "blocks/callout_block.html"


class DoDontBlock(blocks.StructBlock):
    """A pair: what to do, and what not to do instead (training lessons, safety advice)."""

    do = blocks.CharBlock(label="这样做", max_length=200)
    dont = blocks.CharBlock(label="不要这样做", max_length=200)

    class Meta:
        icon = "tick-inverse"
        label = "做与不做"
        template = "blocks/dodont_block.html"
        preview_value = {"do": "停车后拔下钥匙，把车停在划线车位", "dont": "把电动车推进楼道里充电"}


class BodyStreamBlock(blocks.StreamBlock):
    """The body of a story and of any narrative page."""

    paragraph = blocks.RichTextBlock(label="段落", features=RICH_TEXT_FEATURES, template="blocks/paragraph_block.html")
    heading = HeadingBlock()
    image = CaptionedImageBlock()
    gallery = GalleryBlock()
    quote = QuoteBlock()
    figure = FigureBlock()
    callout = CalloutBlock()
    dodont = DoDontBlock()

    class Meta:
        template = "blocks/body_stream_block.html"  # {% include_block page.body %}


class KeyFigureBlock(blocks.StructBlock):
    """A key figure for a snippet (street): value, unit and what it counts."""

    value = blocks.CharBlock(label="数字", max_length=20)
    unit = blocks.CharBlock(label="单位", max_length=10, required=False)
    label = blocks.CharBlock(label="说明", max_length=80)

    class Meta:
        icon = "order"
        label = "关键数字"
