"""A province's home page leads citizens somewhere (issue 11.4): the lookup, the warnings, the Zalo OA."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from zalo.models import ZaloAccount

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def links(html):
    return re.findall(r'<a href="([^"]+)"', html)


def home(host=HOST):
    response = Client().get("/", **host)
    assert response.status_code == 200
    return response.content.decode()


def oa(**fields):
    values = {"app_id": "app-1", "app_secret": "s", "oa_id": "4318801234567", "oa_secret_key": "k", "name": "UBND TP"}
    return ZaloAccount.objects.create(**{**values, **fields})


def test_home_links_to_the_lookup_the_warnings_and_the_admin(in_danang):
    html = home()
    assert {"/tra-cuu/", "/canh-bao/", "/admin/"} <= set(links(html))
    assert "Hiện không có tin cảnh báo nào." in html
    assert "zalo.me" not in html  # no OA in this province yet


def test_the_links_lead_to_pages_that_answer(in_danang):
    for href in ("/tra-cuu/", "/canh-bao/"):
        assert href in links(home())
        assert Client().get(href, **HOST).status_code == 200


def test_the_zalo_oa_is_linked_once_connected_and_not_while_broken_or_off(in_danang):
    account = oa()  # entered, not connected yet (no token)
    assert "zalo.me" not in home()
    ZaloAccount.objects.filter(pk=account.pk).update(access_token="tok", refresh_token="r")
    html = home()
    assert "https://zalo.me/4318801234567" in links(html) and "UBND TP" in html
    ZaloAccount.objects.filter(pk=account.pk).update(refresh_error="invalid refresh token")  # broken
    assert "zalo.me" not in home()
    ZaloAccount.objects.filter(pk=account.pk).update(refresh_error="", is_active=False)  # switched off
    assert "zalo.me" not in home()


def test_each_province_links_its_own_oa(danang, camau):
    with tenant_context(danang):
        oa(oa_id="111", access_token="t")
    with tenant_context(camau):
        oa(oa_id="222", access_token="t")
    assert "https://zalo.me/111" in links(home()) and "https://zalo.me/222" not in links(home())
    camau_home = home({"HTTP_HOST": "camau.localhost"})
    assert "https://zalo.me/222" in links(camau_home) and "https://zalo.me/111" not in links(camau_home)


def test_warnings_in_force_are_counted_on_the_home_page(reception):
    from broadcasts.models import Broadcast, Category, Severity, State

    now = timezone.now()
    base = {
        "category": Category.values[0],
        "severity": Severity.values[0],
        "title": "Bão số 5",
        "body": "Sơ tán khỏi vùng trũng.",
        "state": State.SENT,
        "created_by": reception,
    }
    Broadcast.objects.bulk_create(
        [
            Broadcast(**base, approved_at=now, expires_at=now + timedelta(hours=6)),
            Broadcast(**base, approved_at=now, expires_at=now + timedelta(hours=6)),
            Broadcast(**base, approved_at=now - timedelta(days=2), expires_at=now - timedelta(days=1)),  # expired
        ]
    )
    assert "Đang có 2 tin cảnh báo, thông báo có hiệu lực." in home()
