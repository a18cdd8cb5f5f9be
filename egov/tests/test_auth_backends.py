"""The one-statement permission backend (egov/auth_backends.py) must grant exactly what Django's
ModelBackend grants, for every kind of user, and take a revocation at the next request."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from egov.auth_backends import PermissionBackend


def _fresh(user):
    return User.objects.get(pk=user.pk)  # a new request: nothing kept on the object


def _same_as_django(user):
    ours = PermissionBackend().get_all_permissions(_fresh(user))
    django = ModelBackend().get_all_permissions(_fresh(user))
    assert ours == django
    return ours


@pytest.mark.django_db
def test_every_role_gets_what_model_backend_gives(in_danang, reception, specialist, leader):
    for officer in (reception, specialist, leader):
        perms = _same_as_django(officer.user)
        assert perms  # roles carry permissions: an empty set would make the comparison trivial


@pytest.mark.django_db
def test_own_and_group_permissions_are_united_without_duplicates(in_danang):
    user = User.objects.create_user("hai.nguon", password="x")
    view, change = Permission.objects.filter(codename__in=["view_group", "change_group"]).order_by("codename")
    group = Group.objects.create(name="Nhóm thử")
    group.permissions.add(view, change)
    user.groups.add(group)
    user.user_permissions.add(view)  # the same permission from both sources

    assert _same_as_django(user) == {"auth.change_group", "auth.view_group"}


@pytest.mark.django_db
def test_another_users_permissions_never_leak(in_danang):
    granted = User.objects.create_user("co.quyen", password="x")
    other = User.objects.create_user("khong.quyen", password="x")
    group = Group.objects.create(name="Nhóm riêng")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    granted.groups.add(group)
    granted.user_permissions.add(Permission.objects.get(codename="view_group"))

    assert _same_as_django(other) == set()
    assert not _fresh(other).has_perm("auth.change_group")


@pytest.mark.django_db
def test_inactive_anonymous_and_superuser(in_danang):
    user = User.objects.create_user("nghi.viec", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    assert _fresh(user).has_perm("auth.view_group")
    user.is_active = False
    user.save()
    assert _same_as_django(user) == set()
    assert not _fresh(user).has_perm("auth.view_group")
    assert PermissionBackend().get_all_permissions(AnonymousUser()) == set()

    boss = User.objects.create_superuser("quan.tri", password="x")
    assert _same_as_django(boss) == {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    }


@pytest.mark.django_db
def test_a_revoked_permission_is_gone_at_the_next_request(in_danang):
    user = User.objects.create_user("bi.thu.hoi", password="x")
    group = Group.objects.create(name="Nhóm tạm")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    user.groups.add(group)
    assert _fresh(user).has_perm("auth.change_group")

    group.permissions.clear()
    assert not _fresh(user).has_perm("auth.change_group")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    user.groups.remove(group)
    assert not _fresh(user).has_perm("auth.change_group")


# --- the user and their permissions read together: the API token's and the admin session's ---------


def _by_token(user):
    from rest_framework.authtoken.models import Token

    from egov.api import TokenAuthentication

    key = Token.objects.get_or_create(user=user)[0].key
    return lambda: TokenAuthentication().authenticate_credentials(key)[0]


def _by_session(user):
    return lambda: PermissionBackend().get_user(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("read", [_by_token, _by_session], ids=["token", "session"])
def test_a_user_read_with_their_permissions_has_exactly_model_backends(in_danang, reception, leader, read):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = User.objects.create_user("nhieu.nguon", password="x", is_staff=True)
    group = Group.objects.create(name="Nhóm đọc")
    group.permissions.add(*Permission.objects.filter(codename__in=["view_group", "change_group"]))
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    boss = User.objects.create_superuser("tong.quan.tri", password="x")
    for person in (reception.user, leader.user, user, boss):
        reading = read(person)
        with CaptureQueriesContext(connection) as queries:
            read_with = reading()
        django = ModelBackend().get_all_permissions(_fresh(person))
        with CaptureQueriesContext(connection) as asked:
            assert read_with.get_all_permissions() == django
            assert read_with.has_perm("auth.change_group") == (person in (user, boss))
        assert len(queries) == 1  # the user (and officer) with the permissions
        if not person.is_superuser:
            assert django and not asked.captured_queries  # nothing read again
    # Another user's permissions never come with this one.
    assert read(User.objects.create_user("khong.nhom", password="x"))().get_all_permissions() == set()


@pytest.mark.django_db
@pytest.mark.parametrize("read", [_by_token, _by_session], ids=["token", "session"])
def test_a_user_read_after_a_revocation_or_deactivation_has_nothing_of_it(in_danang, read):
    from rest_framework.exceptions import AuthenticationFailed

    user = User.objects.create_user("sap.nghi", password="x", is_staff=True)
    group = Group.objects.create(name="Nhóm sắp bỏ")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    user.groups.add(group)
    reading = read(user)
    assert reading().has_perm("auth.change_group")
    group.permissions.clear()
    assert not reading().has_perm("auth.change_group")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    assert reading().has_perm("auth.change_group")
    User.objects.filter(pk=user.pk).update(is_active=False)
    if read is _by_token:
        with pytest.raises(AuthenticationFailed):
            reading()
    else:
        assert reading() is None
    forced = _fresh(user)
    from egov.auth_backends import keep_permission_names

    assert keep_permission_names(forced, ["auth.change_group"]).get_all_permissions() == set()


@pytest.mark.django_db
def test_an_api_request_reads_the_officer_and_permissions_in_one_statement(in_danang, reception):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=reception.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/procedures/", HTTP_HOST="danang.localhost").status_code == 200
    reading_permissions = [q["sql"] for q in queries if "auth_permission" in q["sql"]]
    assert len(reading_permissions) == 1 and "authtoken_token" in reading_permissions[0]
    Token.objects.filter(pk=token.pk).update(user=User.objects.create_user("khong.quyen.api", is_staff=True))
    assert client.get("/api/v1/procedures/", HTTP_HOST="danang.localhost").status_code == 403
