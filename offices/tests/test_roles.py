import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from conftest import otp_login
from offices.phones import normalize_phone, phone_for_zalo
from offices.roles import ROLES
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db


def test_every_province_has_the_role_groups_with_their_permissions(danang, camau):
    for province in (danang, camau):
        with tenant_context(province):
            for role in ROLES:
                group = Group.objects.get(name=role.group_name)
                granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
                assert granted == set(role.permissions)


def test_province_admin_manages_accounts_but_a_reception_officer_cannot(danang):
    admin_client, reception_client = Client(), Client()
    with tenant_context(danang):  # sessions live in the province's schema
        otp_login(admin_client, OfficerFactory(role="province_admin").user)
        otp_login(reception_client, OfficerFactory(role="reception").user)
    host = {"HTTP_HOST": "danang.localhost"}
    assert admin_client.get("/admin/auth/user/", **host).status_code == 200
    assert admin_client.get("/admin/auth/user/add/", **host).status_code == 200
    assert reception_client.get("/admin/auth/user/", **host).status_code == 403
    assert reception_client.get("/admin/offices/department/", **host).status_code == 200
    assert reception_client.get("/admin/offices/department/add/", **host).status_code == 403


def test_province_admin_cannot_grant_superuser_or_edit_groups_directly(danang):
    client = Client()
    with tenant_context(danang):
        otp_login(client, OfficerFactory(role="province_admin").user)
        other = OfficerFactory(role="specialist")
    html = client.get(f"/admin/auth/user/{other.user.pk}/change/", HTTP_HOST="danang.localhost").content.decode()
    assert 'name="groups"' not in html and 'name="user_permissions"' not in html  # roles: the audited page
    assert 'name="is_superuser"' not in html
    assert f"/admin/auth/user/{other.user.pk}/vai-tro/" in html


@pytest.mark.parametrize(
    ("raw", "national", "zalo"),
    [
        ("0905 123 456", "0905123456", "84905123456"),
        ("+84912345678", "0912345678", "84912345678"),
        ("84-912-345-678", "0912345678", "84912345678"),
        ("0292.3812.345", "02923812345", "842923812345"),
    ],
)
def test_phone_numbers_normalise(raw, national, zalo):
    assert normalize_phone(raw) == national
    assert phone_for_zalo(raw) == zalo


@pytest.mark.parametrize("raw", ["12345", "0105123456", "abc", "", "+1 202 555 0100"])
def test_malformed_phone_is_refused_in_vietnamese(raw):
    with pytest.raises(ValidationError, match="không hợp lệ"):
        normalize_phone(raw)
