"""Every page of a province's admin names the province, in the header and in the browser's title (issue 11.4)."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_tenants.utils import tenant_context

from conftest import otp_login
from dossiers.tests.factories import ProcedureFactory, receive
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
DANANG = "Thành phố Đà Nẵng"
CAMAU = "Tỉnh Cà Mau"


def names_province(html, name):
    """(in the <title>, in the header) — the header is the admin's #site-name."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    header = re.search(r'<div id="site-name">(.*?)</div>', html, re.S)
    return (bool(title) and name in title.group(1), bool(header) and name in header.group(1))


def get(client, url, host="danang.localhost"):
    response = client.get(url, HTTP_HOST=host, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_the_login_page_names_the_province(danang, camau):
    assert names_province(get(Client(), "/admin/login/"), DANANG) == (True, True)
    camau_page = get(Client(), "/admin/login/", host="camau.localhost")
    assert names_province(camau_page, CAMAU) == (True, True) and DANANG not in camau_page


def test_every_changelist_and_add_page_a_province_admin_opens_names_the_province(reception_desk):
    chief = OfficerFactory(role="province_admin", department=reception_desk, user__username="quantri.test")
    client = Client()
    otp_login(client, chief.user)
    urls = [reverse("admin:index"), reverse("two-factor")]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if model_admin.has_view_permission(_request(chief.user)):
            urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(_request(chief.user)):
            try:
                urls.append(reverse(f"{prefix}_add"))
            except NoReverseMatch:
                pass
    assert len(urls) > 10  # the test can fail: many pages are checked
    for url in urls:
        assert names_province(get(client, url), DANANG) == (True, True), url


def test_the_dossier_pages_of_the_counter_name_the_province(officers):
    reception = officers["reception"]
    dossier = receive(reception, ProcedureFactory(department=officers["specialist"].department))
    client = Client()
    otp_login(client, reception.user)
    urls = [
        reverse("admin:dossiers_dossier_changelist"),  # lands on the role's worklist
        reverse("admin:dossiers_dossier_add"),
        reverse("admin:dossiers_dossier_add") + f"?procedure={dossier.procedure_id}",
        reverse("admin:dossiers_dossier_change", args=[dossier.pk]),
        reverse("admin:dossiers_dossier_action", args=[dossier.pk, "hand_over"]),
    ]
    for url in urls:
        assert names_province(get(client, url), DANANG) == (True, True), url


def test_another_province_names_itself(camau):
    with tenant_context(camau):
        from offices.models import Department

        desk = Department.objects.create(code="TTHCC", name="Trung tâm Phục vụ hành chính công", is_reception=True)
        officer = OfficerFactory(role="reception", department=desk, user__username="motcua.camau")
        client = Client()
        otp_login(client, officer.user)
        page = get(client, reverse("admin:index"), host="camau.localhost")
    assert names_province(page, CAMAU) == (True, True) and DANANG not in page


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
