"""Roles as data: each role is a group in the province's schema with a fixed set of permissions.

Apps that add models add their permissions here; `sync_roles` makes the groups match this table
and runs after every tenant migration, so a new permission reaches every province.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name


@dataclass(frozen=True)
class Role:
    key: str
    group_name: str
    label: str
    permissions: tuple[str, ...]


VIEW_OFFICES = ("offices.view_department", "offices.view_officer")
VIEW_CATALOGUE = ("dossiers.view_procedure", "dossiers.view_procedurecomponent", "dossiers.view_workingdayoverride")
WORK_ON_DOSSIERS = (
    "dossiers.view_dossier",
    "dossiers.hand_over_dossier",
    "dossiers.request_supplement",
    "dossiers.request_fees",
)

RECEPTION = Role(
    "reception",
    "Cán bộ một cửa",
    _("Cán bộ một cửa"),
    VIEW_OFFICES
    + VIEW_CATALOGUE
    + WORK_ON_DOSSIERS
    + ("dossiers.add_dossier", "dossiers.receive_dossier", "dossiers.return_result", "dossiers.view_all_dossiers")
    + ("notifications.view_notification", "zalo.view_citizenquestion", "zalo.change_citizenquestion")
    + ("zalo.view_dossierlink", "zalo.change_dossierlink"),
)
SPECIALIST = Role(
    "specialist",
    "Chuyên viên xử lý",
    _("Chuyên viên xử lý"),
    VIEW_OFFICES + VIEW_CATALOGUE + WORK_ON_DOSSIERS + ("dossiers.postpone_dossier",),
)
LEADER = Role(
    "leader",
    "Lãnh đạo",
    _("Lãnh đạo (ký kết quả)"),
    VIEW_OFFICES
    + VIEW_CATALOGUE
    + WORK_ON_DOSSIERS
    + ("dossiers.sign_result", "dossiers.stop_dossier", "dossiers.postpone_dossier")
    + ("reports.view_reports",),
)
PROVINCE_ADMIN = Role(
    "province_admin",
    "Quản trị tỉnh",
    _("Quản trị tỉnh"),
    (
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "offices.view_department",
        "offices.add_department",
        "offices.change_department",
        "offices.view_officer",
        "offices.add_officer",
        "offices.change_officer",
        "offices.delete_officer",
        "offices.view_accountaudit",
        "dossiers.view_personaldataaccess",
        "offices.view_accountrequest",
        "dossiers.view_dossier",
        "dossiers.view_all_dossiers",
        "dossiers.view_procedure",
        "dossiers.add_procedure",
        "dossiers.change_procedure",
        "dossiers.view_procedurecomponent",
        "dossiers.add_procedurecomponent",
        "dossiers.change_procedurecomponent",
        "dossiers.delete_procedurecomponent",
        "dossiers.view_workingdayoverride",
        "dossiers.add_workingdayoverride",
        "dossiers.change_workingdayoverride",
        "dossiers.delete_workingdayoverride",
        "zalo.view_zaloaccount",
        "zalo.add_zaloaccount",
        "zalo.change_zaloaccount",
        "zalo.view_follower",
        "zalo.view_citizenquestion",
        "zalo.change_citizenquestion",
        "zalo.view_inboundevent",
        "zalo.view_dossierlink",
        "zalo.change_dossierlink",
        "zalo.view_messagetemplate",
        "zalo.add_messagetemplate",
        "zalo.change_messagetemplate",
        "zalo.view_templateparameter",
        "zalo.add_templateparameter",
        "zalo.change_templateparameter",
        "zalo.delete_templateparameter",
        "notifications.view_notification",
        "notifications.view_messagetext",
        "notifications.add_messagetext",
        "notifications.change_messagetext",
        "broadcasts.view_broadcast",
        "broadcasts.add_broadcast",
        "broadcasts.change_broadcast",
        "broadcasts.approve_broadcast",
        "broadcasts.view_broadcastsettings",
        "broadcasts.change_broadcastsettings",
        "broadcasts.add_broadcastsettings",
        "ratings.view_rating",
        "ratings.view_ratingtoanswer",
        "ratings.change_ratingtoanswer",
        "ratings.view_ratinganswerlog",
        "reports.view_reports",
    ),
)

ROLES = (RECEPTION, SPECIALIST, LEADER, PROVINCE_ADMIN)
ROLES_BY_KEY = {role.key: role for role in ROLES}


def _permission(dotted):
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def sync_roles():
    """Create or update the role groups of the current schema to match ROLES exactly."""
    groups = {}
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role.group_name)
        wanted = [_permission(p) for p in role.permissions]
        if set(group.permissions.all()) != set(wanted):
            group.permissions.set(wanted)
        groups[role.key] = group
    return groups


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    # Once per schema, after the last tenant app's permissions exist; never in the public schema.
    if app_config is None or app_config.name != settings.TENANT_APPS[-1]:
        return
    if connection.schema_name == get_public_schema_name():
        return
    sync_roles()


def assign_role(user, role_key):
    role = ROLES_BY_KEY[role_key]
    group = Group.objects.get(name=role.group_name)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def roles_of(user):
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in ROLES if role.group_name in names]
