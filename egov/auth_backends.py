"""Django's ModelBackend with an officer's permissions read in one statement, not two.

Every officer request checks a permission (the API's `IsOfficer`, the admin's pages). ModelBackend
reads the user's own permissions and their groups' permissions in two ORM queries; this reads both in
one SQL statement. Same rules: an inactive or anonymous user has none, a superuser has all (Django's
own path), the answer is kept on the user object for the request (`_perm_cache`, as ModelBackend
does), and the per-source methods (`get_user_permissions`, `get_group_permissions`) are Django's.

Most requests need no statement of their own for it: the admin session's user (`get_user`) and the API
token's (egov/api.py) are read with their permission names in the same statement.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL

from egov.compiled import CompiledSelect


def permission_names_sql(user_id):
    """SQL of a user's permission names ("app_label.codename"), their own and their groups', each
    once. `user_id` is an SQL expression: a placeholder (given twice) or a column of an outer query."""
    user_perms = Permission.user_set.through._meta.db_table  # auth_user_user_permissions
    group_perms = Group.permissions.through._meta.db_table  # auth_group_permissions
    user_groups = Group.user_set.through._meta.db_table  # auth_user_groups
    return f"""
        SELECT ct.app_label || '.' || p.codename FROM {Permission._meta.db_table} p
        JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
        WHERE p.id IN (SELECT permission_id FROM {user_perms} WHERE user_id = {user_id}
                       UNION SELECT gp.permission_id FROM {group_perms} gp
                       JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id})
    """  # noqa: S608 - table names from the models, the user id a parameter or a column


PERMISSION_NAMES = "_permission_names"


def with_permission_names(queryset, user_id_column=None):
    """`queryset` with each row's user's permission names read in the same statement (an array in
    PERMISSION_NAMES): the token's or the session's user and their permissions in one round trip.
    `user_id_column`: the user's id in the query (the user table's own, joined under its name)."""
    user_id_column = user_id_column or user_id_column_sql()
    sql = f"ARRAY({permission_names_sql(user_id_column)})"
    names = RawSQL(sql, (), output_field=ArrayField(TextField()))  # noqa: S611 - no input in it
    return queryset.annotate(**{PERMISSION_NAMES: names})


def keep_permission_names(user, names):
    """Keep the names read with the user for this request, where PermissionBackend looks first. Only
    for whom they are the answer: an inactive user has no permissions and a superuser has all."""
    if names is not None and user.is_active and not user.is_superuser:
        user._perm_cache = set(names)
    return user


class PermissionBackend(ModelBackend):
    def get_user(self, user_id):
        """ModelBackend's, with the user's permissions read in the same statement (every admin page
        checks one), compiled by the ORM once per thread (egov/compiled.py)."""
        user = _USER_WITH_PERMISSIONS.first(get_user_model()._meta.pk.get_prep_value(user_id))
        if user is None or not self.user_can_authenticate(user):
            return None
        return keep_permission_names(user, getattr(user, PERMISSION_NAMES))

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(permission_names_sql("%s"), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {name for (name,) in cursor.fetchall()}
        return user_obj._perm_cache


def user_id_column_sql():
    user_model = get_user_model()
    quote = connection.ops.quote_name
    return f"{quote(user_model._meta.db_table)}.{quote(user_model._meta.pk.column)}"


def _user_with_permissions(user_id):
    return with_permission_names(get_user_model()._default_manager.filter(pk=user_id))


_USER_WITH_PERMISSIONS = CompiledSelect(_user_with_permissions, placeholder=-(2**31))  # no user has this id
