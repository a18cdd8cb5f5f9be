import pytest

pytestmark = pytest.mark.django_db


def test_landing_page_lists_provinces_with_links(client, danang, camau):
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thành phố Đà Nẵng" in html and "Tỉnh Cà Mau" in html
    assert 'href="http://danang.localhost:8000/"' in html
    assert 'href="http://camau.localhost:8000/"' in html
    assert ">Một Cửa<" in html  # not the public schema's own row


def test_province_domain_serves_its_own_home(client, danang):
    response = client.get("/", HTTP_HOST="danang.localhost")
    assert response.status_code == 200
    assert "Bộ phận một cửa Thành phố Đà Nẵng" in response.content.decode()


def test_unknown_domain_is_not_found(client):
    assert client.get("/", HTTP_HOST="nowhere.localhost").status_code == 404


def test_national_admin_manages_provinces(danang):
    from django.contrib.auth.models import User
    from django.test import Client

    from conftest import otp_login
    from offices.tests.factories import PASSWORD

    national = User.objects.create_superuser("quocgia.test", password=PASSWORD)
    client = Client()
    assert client.post("/admin/login/", {"username": "quocgia.test", "password": PASSWORD}, HTTP_HOST="localhost")
    response = client.get("/admin/provinces/province/", HTTP_HOST="localhost")
    assert response.status_code == 302 and response["Location"].startswith("/admin/xac-thuc-hai-buoc/")  # enrol first
    page = client.get(response["Location"], HTTP_HOST="localhost").content.decode()
    assert "quản trị quốc gia" in page and "<svg" in page
    client = Client()
    otp_login(client, national, host="localhost")  # password + TOTP code
    response = client.get("/admin/provinces/province/", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "Thành phố Đà Nẵng" in response.content.decode()
    assert f"/admin/provinces/province/{danang.pk}/tai-khoan/" in response.content.decode()


def test_national_admin_is_not_served_on_a_province_domain(admin_client, danang):
    # The national superuser exists only in the public schema.
    response = admin_client.get("/admin/", HTTP_HOST="danang.localhost")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
