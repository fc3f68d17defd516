"""The gate looks at everything a page shows, not only its body.

Image title, alt text and caption, tags, the slug, a person's role, a street's summary, a document's name
and text, images and documents from a restricted collection: each reached the live API and the release
before; each now stops the publish, with the field named and the number masked.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from wagtail.models import Collection, CollectionViewRestriction

from cms.core.models import SiteSettings
from cms.core.privacy import PrivacyBlocked, page_problems
from cms.documents.models import CustomDocument
from cms.stories.models import StoryPage
from tests.support.helpers import make_image, make_person, make_story, make_street

pytestmark = pytest.mark.django_db
NUMBER, SHOWN = "13812345678", "138*****678"


def refused(page) -> str:
    """Publishing the page's latest revision is refused; the message, which must not spread the number."""
    with pytest.raises(PrivacyBlocked) as err:
        page.save_revision().publish()
    message = str(err.value)
    assert NUMBER not in message, message
    assert not StoryPage.objects.get(pk=page.pk).live
    return message


def draft(index, **kwargs) -> StoryPage:
    return make_story(index, title="字段之外", publish=False, **kwargs)


@pytest.mark.parametrize("field", ["title", "description", "caption", "credit"])
def test_an_image_text_field_with_a_number_stops_the_page(tree, field):
    _home, index = tree
    image = make_image()
    setattr(image, field, f"联系人电话 {NUMBER}")
    image.save()
    page = draft(index, image=image)
    assert SHOWN in refused(page)


def test_an_image_in_the_body_is_checked_too(tree):
    _home, index = tree
    image = make_image(alt=f"王大爷家门口，电话{NUMBER}")
    block = {"image": {"image": image.pk, "alt_text": "王大爷家门口", "decorative": False}, "caption": "", "credit": ""}
    page = draft(index, body=[{"type": "image", "value": block}])
    assert SHOWN in refused(page)


def test_a_tag_with_a_number_stops_the_page(tree):
    _home, index = tree
    page = draft(index, tags=[f"热线{NUMBER}"])
    message = refused(page)
    assert "标签" in message and SHOWN in message


def test_a_slug_with_a_number_stops_the_page(tree):
    _home, index = tree
    page = draft(index)
    page.slug = f"call-{NUMBER}"
    page.save()
    assert "网址" in refused(page) or SHOWN in refused(page)


def test_a_persons_role_and_a_streets_summary_are_checked(tree):
    _home, index = tree
    street = make_street()
    person = make_person(street=street)
    person.role = f"快递员（{NUMBER}）"
    person.save()
    page = draft(index, people=[person])
    message = refused(page)
    assert "身份/职务" in message and SHOWN in message
    person.role = "快递员"
    person.consent_note = f"电话确认过 {NUMBER}"  # internal, never shown: not a reason to refuse
    person.save()
    street.summary = f"值班电话 {NUMBER}"
    street.save()
    page = StoryPage.objects.get(pk=page.pk)
    page.street = street
    message = refused(page)
    assert "简介" in message or "街道" in message
    assert "同意记录说明" not in message


def document(name="报名表.txt", text="报名表：姓名、所在站点。", title="报名表") -> CustomDocument:
    doc = CustomDocument(title=title)
    doc.file.save(name, ContentFile(text.encode("utf-8")), save=False)
    CustomDocument.objects.bulk_create([doc])  # no upload checks: as if it got in before them
    return CustomDocument.objects.get(title=title)


def link_to(doc) -> list:
    return [("paragraph", f'<p>下载<a linktype="document" id="{doc.pk}">报名表</a>。</p>')]


def test_a_linked_document_with_a_number_in_its_text_stops_the_page(tree):
    _home, index = tree
    doc = document(text=f"联系人：王师傅 {NUMBER}")
    page = draft(index, body=link_to(doc))
    message = refused(page)
    assert "报名表" in message and SHOWN in message


def test_a_document_whose_bytes_are_not_its_extension_stops_the_page(tree):
    _home, index = tree
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    doc = CustomDocument(title="假的PDF")
    doc.file.save("scan.pdf", ContentFile(buf.getvalue()), save=False)
    CustomDocument.objects.bulk_create([doc])
    doc = CustomDocument.objects.get(title="假的PDF")
    page = draft(index, body=link_to(doc))
    with pytest.raises(PrivacyBlocked) as err:
        page.save_revision().publish()
    assert "假的PDF" in str(err.value)


def test_images_and_documents_from_a_restricted_collection_stop_the_page(tree):
    _home, index = tree
    private = Collection.get_first_root_node().add_child(name="内部台账")
    CollectionViewRestriction.objects.create(collection=private, restriction_type="login")
    image = make_image(title="内部照片")
    image.collection = private
    image.save()
    page = draft(index, image=image)
    with pytest.raises(PrivacyBlocked) as err:
        page.save_revision().publish()
    assert "内部台账" in str(err.value)
    doc = document(title="内部名单")
    doc.collection = private
    doc.save()
    other = make_story(index, title="链接内部文档", publish=False, body=link_to(doc))
    with pytest.raises(PrivacyBlocked) as err:
        other.save_revision().publish()
    assert "内部名单" in str(err.value) and "内部台账" in str(err.value)


def test_the_organisations_own_address_and_telephone_are_not_personal(tree):
    _home, index = tree
    settings = SiteSettings.load()
    settings.office_address = "北京市西城区某某路1号院2号楼3单元101室"
    settings.save()
    page = draft(index, body=[("paragraph", "<p>办公地址：北京市西城区某某路1号院2号楼3单元101室。</p>")])
    assert page_problems(page) == []
    page.body = [("paragraph", "<p>王奶奶住在某某路1号院2号楼3单元502室。</p>")]
    assert page_problems(page), "a resident's address is still refused"
