"""A failed token refresh is recorded (it survives the raise) and shown to the province admins on every admin page."""

import pytest
from django.test import Client
from django.utils import timezone

from testing.zalo import APP_ID, OA_ID
from zalo import accounts
from zalo.errors import OAuthRejected
from zalo.models import ZaloAccount

HOST = {"HTTP_HOST": "danang.localhost"}


def list_followers(token):
    accounts.client().list_followers(token)
    return token


ADMIN_PAGES = (
    "/admin/",
    "/admin/dossiers/dossier/",
    "/admin/offices/officer/",
    "/admin/zalo/follower/",
    "/admin/zalo/zaloaccount/",
    "/admin/xac-thuc-hai-buoc/",  # the officer's own two-factor page, also under the admin
)


@pytest.mark.django_db
def test_a_failed_refresh_is_recorded_and_shown_on_every_admin_page(zalo, in_danang):
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory

    zalo.expire_tokens(refresh=True)  # Zalo refuses the stored refresh token: the chain is broken
    with pytest.raises(OAuthRejected):
        accounts.call_with_token(list_followers)
    account = ZaloAccount.objects.get()
    assert account.refresh_failed_at is not None and "-14014" in account.refresh_error  # it survived the raise

    admin = Client()
    otp_login(admin, OfficerFactory(role="province_admin").user)
    change_page = f"/admin/zalo/zaloaccount/{account.pk}/change/"
    for page in (*ADMIN_PAGES, change_page):
        html = admin.get(page, **HOST).content.decode()
        assert "Kết nối Zalo OA bị lỗi: -14014" in html, page
        assert f'href="{change_page}"' in html and "Cần kết nối lại." in html, page
    html = admin.get(change_page, **HOST).content.decode()
    assert "Bị lỗi, cần kết nối lại" in html and f"{timezone.localtime(account.refresh_failed_at):%d/%m/%Y}" in html

    officer = Client()
    officer.force_login(OfficerFactory(role="reception").user)  # not an admin of the OA: no banner
    assert "Kết nối Zalo OA bị lỗi" not in officer.get("/admin/dossiers/dossier/", **HOST).content.decode()

    # The OA is connected again (a new refresh token); the next refresh succeeds and clears the alarm.
    ZaloAccount.objects.filter(pk=account.pk).update(refresh_token=zalo.issue_tokens(OA_ID)["refresh_token"])
    assert accounts.call_with_token(list_followers)
    account.refresh_from_db()
    assert account.refresh_error == "" and account.refresh_failed_at is None
    for page in (*ADMIN_PAGES, change_page):
        assert "Kết nối Zalo OA bị lỗi" not in admin.get(page, **HOST).content.decode(), page
    assert "Đã kết nối" in admin.get(change_page, **HOST).content.decode()


@pytest.mark.django_db
def test_saving_the_oa_page_never_writes_back_a_token_pair_replaced_meanwhile(zalo, in_danang, monkeypatch):
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory
    from zalo.admin import ZaloAccountAdmin

    admin = Client()
    otp_login(admin, OfficerFactory(role="province_admin").user)
    accounts.refresh()  # the OA has a token pair
    account = ZaloAccount.objects.get()
    read_the_row = ZaloAccountAdmin.get_object
    replaced = []

    def read_then_another_process_refreshes(self, request, object_id, from_field=None):
        obj = read_the_row(self, request, object_id, from_field)
        if request.method == "POST":
            replaced.append(accounts.refresh(force=True))  # the old pair is dead at Zalo from now on
        return obj

    monkeypatch.setattr(ZaloAccountAdmin, "get_object", read_then_another_process_refreshes)
    form = {"name": "OA Đà Nẵng", "app_id": APP_ID, "oa_id": OA_ID, "is_active": "on"}
    response = admin.post(f"/admin/zalo/zaloaccount/{account.pk}/change/", form, **HOST)
    assert response.status_code == 302 and len(replaced) == 1
    stored = ZaloAccount.objects.get()
    assert stored.name == "OA Đà Nẵng" and stored.access_token == replaced[0] != account.access_token
    assert accounts.refresh(force=True)  # the stored refresh token is the live end of the chain
