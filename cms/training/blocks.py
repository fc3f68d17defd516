"""A lesson's quiz: questions with options, the right answer and why."""

from django.core.exceptions import ValidationError
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(label="题目", max_length=300)
    options = blocks.ListBlock(blocks.CharBlock(label="选项", max_length=200), label="选项", min_num=2, max_num=4)
    answer = blocks.IntegerBlock(label="正确答案是第几个选项", min_value=1, max_value=4)
    explanation = blocks.TextBlock(label="解析", help_text="为什么这样做；答题后显示")

    class Meta:
        icon = "help"
        label = "题目"

    def clean(self, value):
        value = super().clean(value)
        if value["answer"] > len(value["options"]):
            raise StructBlockValidationError(
                block_errors={"answer": ValidationError(f"只有 {len(value['options'])} 个选项")}
            )
        return value
