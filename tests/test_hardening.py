"""The CMS on the internet: security headers, login lockout per user name and address together, upload limits."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from cms.images.models import CustomImage

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _axes_reset(settings):
    from axes.utils import reset

    settings.AXES_ENABLED = True
    reset()
    yield
    reset()


def login(client, username, password, ip="203.0.113.5"):
    return client.post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_USER_AGENT="test"
    )


def test_the_cms_sends_security_headers(client):
    response = client.get("/admin/login/")
    csp = response["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_a_share_link_page_has_no_unsafe_inline_at_all(client, tree):
    from cms.editorial.models import ShareLink

    link = ShareLink.objects.create(page=tree[1])
    csp = client.get(link.get_absolute_url())["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_failures_lock_the_user_at_that_address_only(client, django_user_model):
    """Someone who guesses admin's password from anywhere must not lock admin out everywhere."""
    django_user_model.objects.create_superuser("zhang", "z@example.org", PASSWORD)
    for _ in range(4):
        assert login(client, "zhang", "wrong", ip="203.0.113.5").status_code == 200
    assert login(client, "zhang", "wrong", ip="203.0.113.5").status_code == 429, "the fifth failure locks"
    locked = login(client, "zhang", PASSWORD, ip="203.0.113.5")
    assert locked.status_code == 429 and "登录已暂时锁定" in locked.content.decode(), "even the right password"
    ok = login(client, "zhang", PASSWORD, ip="198.51.100.7")
    assert ok.status_code == 302, "the same user at another address still logs in"
    client.logout()
    assert login(client, "zhang", "wrong", ip="203.0.113.5").status_code == 429, "the attacker stays locked"


def test_failures_for_one_user_name_do_not_lock_the_address_for_other_users(client, django_user_model):
    """An office behind one address: one editor's typos lock only that editor there."""
    django_user_model.objects.create_superuser("li", "l@example.org", PASSWORD)
    for _ in range(5):
        login(client, "guess", "wrong", ip="203.0.113.9")
    assert login(client, "guess", "wrong", ip="203.0.113.9").status_code == 429
    ok = login(client, "li", PASSWORD, ip="203.0.113.9")
    assert ok.status_code == 302, "another user at the same address still logs in"


def png(size) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, "#0b4f8a").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.org", PASSWORD))
    return client


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("map.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "不支持的图片格式"),
        ("huge.png", None, "像素"),
        ("fake.jpg", b"this is not an image at all", "不"),
    ],
)
def test_uploads_outside_the_limits_are_refused_with_a_message(admin_client, settings, name, data, reason):
    if data is None:
        settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 100 * 100
        data = png((200, 200))
    response = admin_client.post(
        "/admin/images/multiple/add/",
        {"files[]": SimpleUploadedFile(name, data)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    body = response.json()
    assert body["success"] is False
    message = str(body.get("error_message", "")) + str(body.get("form", ""))
    assert message, body
    if reason:
        assert reason in message.lower() or reason in message, message
    assert not CustomImage.objects.exists()


def test_an_upload_over_the_size_limit_is_refused(admin_client, settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 1000
    response = admin_client.post(
        "/admin/images/multiple/add/",
        {"files[]": SimpleUploadedFile("big.png", png((400, 400)))},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    body = response.json()
    assert body["success"] is False and ("太大" in str(body) or "大小" in str(body) or "large" in str(body))
