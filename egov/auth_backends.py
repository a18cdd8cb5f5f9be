"""Django's ModelBackend with an officer's permissions read in one statement, not two.

Every officer request checks a permission (the API's `IsOfficer`, the admin's pages). ModelBackend
reads the user's own permissions and their groups' permissions in two ORM queries; this reads both in
one SQL statement. Same rules: an inactive or anonymous user has none, a superuser has all (Django's
own path), the answer is kept on the user object for the request (`_perm_cache`, as ModelBackend
does), and the per-source methods (`get_user_permissions`, `get_group_permissions`) are Django's.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


def _statement():
    user_perms = Permission.user_set.through._meta.db_table  # auth_user_user_permissions
    group_perms = Group.permissions.through._meta.db_table  # auth_group_permissions
    user_groups = Group.user_set.through._meta.db_table  # auth_user_groups
    return f"""
        SELECT ct.app_label, p.codename FROM {Permission._meta.db_table} p
        JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
        WHERE p.id IN (SELECT permission_id FROM {user_perms} WHERE user_id = %s
                       UNION SELECT gp.permission_id FROM {group_perms} gp
                       JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s)
    """  # noqa: S608 - table names from the models, the user id a parameter


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_statement(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor.fetchall()}
        return user_obj._perm_cache
