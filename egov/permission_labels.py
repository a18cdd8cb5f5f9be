"""Permissions named in the reader's language on the user and group pages of both admin sites.

Django writes each model's permission names into the database once, in English ("Can add
dossier"), so Django's catalogue cannot translate them. The admin shows them as "app | model |
name"; here they are built at render time from the action and the model's (translated) names.
"""

from django.apps import apps
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Permission
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTIONS = {"add": _("Thêm"), "change": _("Sửa"), "delete": _("Xóa"), "view": _("Xem")}

# Apps and models whose own names are not translatable (no verbose_name, or one not marked for translation).
APP_NAMES = {
    "otp_totp": _("Xác thực hai bước"),
    "authtoken": _("Khóa truy cập API"),
    "sessions": _("Phiên đăng nhập"),
    "axes": _("Khóa đăng nhập sai"),
}
MODEL_NAMES = {
    ("otp_totp", "totpdevice"): _("thiết bị xác thực hai bước"),
    # Internal tables without a Meta.verbose_name (no admin page of their own).
    ("dossiers", "dossiercounter"): _("bộ đếm số hồ sơ"),
    ("dossiers", "missingcomponent"): _("giấy tờ cần bổ sung"),
    ("notifications", "attempt"): _("lần gửi tin"),
    ("broadcasts", "recipient"): _("người nhận tin cảnh báo"),
    ("broadcasts", "auditentry"): _("nhật ký tin cảnh báo"),
}


def permission_label(permission: Permission) -> str:
    content_type = permission.content_type
    app_label, model_name = content_type.app_label, content_type.model
    try:
        app_name = APP_NAMES.get(app_label) or apps.get_app_config(app_label).verbose_name
    except LookupError:
        app_name = app_label
    model = content_type.model_class()
    what = MODEL_NAMES.get((app_label, model_name)) or (model._meta.verbose_name if model else model_name)
    action, _sep, rest = permission.codename.partition("_")
    if action in ACTIONS and rest == model_name:
        name = f"{ACTIONS[action]} {what}"
    else:
        name = gettext(permission.name)  # a permission declared in Meta.permissions: named by our code
    return f"{app_name} | {what} | {name}"


def _link_tables(model):
    """The tables Django creates for `model`'s many-to-many fields, both directions."""
    forward = [f.remote_field.through for f in model._meta.many_to_many]
    backward = [r.through for r in model._meta.related_objects if r.many_to_many]
    return [through for through in forward + backward if through._meta.auto_created]


def _without(items, prefixes):
    kept = []
    for item in items:
        if isinstance(item, list):
            item = _without(item, prefixes)
            if item:
                kept.append(item)
        elif not str(item).startswith(prefixes):
            kept.append(item)
    return kept


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's admin password form, its help text translated (Django joins its translatable first
    half to an English warning when the module is imported, so the whole text stays English)."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("Nếu tắt, mật khẩu hiện tại của người dùng này sẽ mất."),
    )


class PermissionLabelsAdmin:
    """ModelAdmin mixin for the user and group pages: every permission chooser lists translated
    names, and a delete confirmation does not list the rows of Django's link tables ("User_groups
    object (12)": English, and nothing an officer decides on; they go with the user or group)."""

    change_password_form = PasswordChangeForm  # used by UserAdmin only

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = _link_tables(self.model)
        plural_names = {str(m._meta.verbose_name_plural) for m in links}
        prefixes = tuple(f"{capfirst(m._meta.verbose_name)}: " for m in links)
        model_count = {name: n for name, n in model_count.items() if str(name) not in plural_names}
        return _without(to_delete, prefixes) if prefixes else to_delete, model_count, perms_needed, protected
