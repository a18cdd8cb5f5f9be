"""A province admin's wording of a message is untrusted input: attacks on intake through MessageText."""

import logging
import tracemalloc

import pytest
from django.test import Client

from dossiers.models import Dossier
from dossiers.tests.factories import receive
from notifications import texts
from notifications.models import Kind, MessageText, Notification

HOST = {"HTTP_HOST": "danang.localhost"}
ADD_URL = "/admin/notifications/messagetext/add/"


@pytest.fixture
def province_admin(in_danang):
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory

    client = Client()
    otp_login(client, OfficerFactory(role="province_admin").user)  # password + TOTP code
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_text",
    ["Hồ sơ {code của ông/bà đã nhận", "{code:>999999999}", "{code.__class__.__mro__}", "{0}{}", "x" * 5000],
)
def test_brace_in_a_province_text_does_not_stop_intake(reception, caplog, bad_text):
    MessageText.objects.create(kind=Kind.RECEIPT, text="Đã nhận hồ sơ {code}.")
    MessageText.objects.filter(kind=Kind.RECEIPT).update(text=bad_text)  # by SQL, past every form
    caplog.set_level(logging.ERROR, logger="notifications.texts")
    tracemalloc.start()
    try:
        dossier = receive(reception)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert Dossier.objects.filter(pk=dossier.pk).exists()  # the counter intake went through
    row = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
    assert row.text.startswith(f"Hồ sơ {dossier.code} ({dossier.procedure.name}) đã được tiếp nhận.")
    assert "{" not in row.text and "}" not in row.text
    assert row.last_error.startswith("Nội dung tin của tỉnh bị lỗi")  # officers see it on the dossier
    assert any("default text used" in r.getMessage() for r in caplog.records)
    assert peak < 20 * 1024 * 1024, peak  # no gigabyte of padding


@pytest.mark.django_db
def test_format_spec_bomb_is_refused_when_saved(province_admin):
    response = province_admin.post(ADD_URL, {"kind": Kind.RECEIPT, "text": "Hồ sơ {code:>999999999}"}, **HOST)
    assert response.status_code == 200
    assert "Chỗ điền {code:&gt;999999999} có định dạng; chỉ được viết {code}." in response.content.decode()
    for bomb in ("{code!r}", "{date:%Y}", "{link!s:>99}"):
        response = province_admin.post(ADD_URL, {"kind": Kind.RECEIPT, "text": bomb}, **HOST)
        assert "có định dạng" in response.content.decode(), bomb
    assert not MessageText.objects.exists()

    tracemalloc.start()
    try:
        with pytest.raises(texts.TextError):
            texts.render_text(Kind.RECEIPT, "{code:>999999999}", {"code": "X"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, peak


@pytest.mark.django_db
def test_unknown_placeholder_is_refused_with_a_clear_message(province_admin):
    allowed = "Được dùng: {code}, {procedure}, {date}, {link}."
    cases = {
        "Hồ sơ {ma_ho_so} đã nhận": "Chỗ điền {ma_ho_so} không được dùng cho loại tin này. " + allowed,
        "Cần bổ sung {missing}": "Chỗ điền {missing} không được dùng cho loại tin này. " + allowed,  # supplement only
        "{code[0]}": "Chỗ điền {code[0]} không được dùng",
        "{code.upper}": "Chỗ điền {code.upper} không được dùng",
        "{0}": "Chỗ điền {0} không được dùng",
        "Hồ sơ {code đã nhận": "Dấu ngoặc nhọn không khớp.",
        "Hồ sơ {code} " + "x" * 1000: "tối đa 1000 ký tự",
    }
    for text, message in cases.items():
        response = province_admin.post(ADD_URL, {"kind": Kind.RECEIPT, "text": text}, **HOST)
        assert response.status_code == 200, text
        assert message in response.content.decode(), text
    assert not MessageText.objects.exists()

    response = province_admin.post(
        ADD_URL, {"kind": Kind.SUPPLEMENT, "text": "Hồ sơ {code} thiếu {missing}, gặp {officer}. {{ghi chú}}"}, **HOST
    )
    assert response.status_code == 302  # the kind's own placeholders and escaped braces are fine
    assert MessageText.objects.get().text.endswith("{{ghi chú}}")


@pytest.mark.django_db
def test_admin_preview_shows_rendered_text(province_admin, danang):
    text = "Hồ sơ {code} đã nhận, hẹn trả {date}. Xem: {link}"
    assert province_admin.post(ADD_URL, {"kind": Kind.RECEIPT, "text": text}, **HOST).status_code == 302
    saved = MessageText.objects.get()
    html = province_admin.get(f"/admin/notifications/messagetext/{saved.pk}/change/", **HOST).content.decode()
    sample = texts.sample_values(Kind.RECEIPT)
    assert sample["code"].startswith(danang.agency_code)
    assert f"Hồ sơ {sample['code']} đã nhận, hẹn trả {sample['date']}. Xem: {sample['link']}" in html
    assert "{code}, {procedure}, {date}, {link}" in html  # the allowed placeholders are listed

    MessageText.objects.filter(pk=saved.pk).update(text="Hồ sơ {ma}")  # broken behind the admin's back
    html = province_admin.get("/admin/notifications/messagetext/", **HOST).content.decode()
    assert "tin nhắn đang gửi nội dung mặc định" in html and "Chỗ điền {ma} không được dùng" in html
