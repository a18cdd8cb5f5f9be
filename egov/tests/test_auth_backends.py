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
