"""Each province's data, accounts and sessions are its own."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_tenants.utils import tenant_context

from offices.models import Department, Officer
from offices.tests.factories import PASSWORD, DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db


def test_data_written_in_one_province_is_invisible_from_another(danang, camau):
    with tenant_context(danang):
        DepartmentFactory(code="SYT", name="Sở Y tế Đà Nẵng")
        assert Department.objects.filter(code="SYT").count() == 1
    with tenant_context(camau):
        assert not Department.objects.filter(code="SYT").exists()
        DepartmentFactory(code="SYT", name="Sở Y tế Cà Mau")  # same code, other province: allowed
    with tenant_context(danang):
        assert list(Department.objects.filter(code="SYT").values_list("name", flat=True)) == ["Sở Y tế Đà Nẵng"]


def login(client, host, username, password=PASSWORD):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, HTTP_HOST=host)


def test_officer_logs_into_own_province_and_is_refused_everywhere_else(danang, camau):
    with tenant_context(danang):
        officer = OfficerFactory(user__username="tiepnhan.dn", role="reception")
        assert officer.user.check_password(PASSWORD)
    with tenant_context(camau):
        assert not User.objects.filter(username="tiepnhan.dn").exists()

    client = Client()
    response = login(client, "danang.localhost", "tiepnhan.dn")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/", HTTP_HOST="danang.localhost").status_code == 200
    session_cookie = client.cookies["sessionid"].value

    # The same credentials on Cà Mau's domain: no such account there.
    other = Client()
    response = login(other, "camau.localhost", "tiepnhan.dn")
    assert response.status_code == 200
    assert "sessionid" not in other.cookies or not other.cookies["sessionid"].value
    assert "Bạn hãy nhập đúng" in response.content.decode()

    # Đà Nẵng's session cookie replayed on Cà Mau's domain opens nothing.
    replay = Client()
    replay.cookies["sessionid"] = session_cookie
    response = replay.get("/admin/", HTTP_HOST="camau.localhost")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert replay.get("/admin/offices/department/", HTTP_HOST="camau.localhost").status_code == 302
    # ...and still works at home (Cà Mau's answer told the client to drop the unknown cookie).
    replay.cookies["sessionid"] = session_cookie
    assert replay.get("/admin/", HTTP_HOST="danang.localhost").status_code == 200


def test_officer_profile_normalises_phone_and_names_in_vietnamese_order(danang):
    with tenant_context(danang):
        officer = OfficerFactory(phone="+84 905 123 456", user__first_name="Bích", user__last_name="Trần Thị")
        officer.refresh_from_db()
        assert officer.phone == "0905123456"
        assert officer.full_name == "Trần Thị Bích"
        assert Officer.objects.get(pk=officer.pk).roles[0].key == "reception"
