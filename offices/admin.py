from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from .models import Department, Officer
from .roles import roles_of


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "is_reception", "is_active", "officer_count")
    list_filter = ("is_reception", "is_active")
    search_fields = ("code", "name", "short_name")

    @admin.display(description=_("số cán bộ"))
    def officer_count(self, obj):
        return obj.officers.count()

    def has_delete_permission(self, request, obj=None):
        # Departments are referenced by history; deactivate instead of deleting.
        return False


@admin.register(Officer)
class OfficerAdmin(admin.ModelAdmin):
    list_display = ("full_name", "department", "title", "role_names")
    list_filter = ("department", "user__groups")
    search_fields = ("user__username", "user__first_name", "user__last_name", "title")
    list_select_related = ("user", "department")
    autocomplete_fields = ("user",)

    @admin.display(description=_("vai trò"))
    def role_names(self, obj):
        return ", ".join(str(role.label) for role in roles_of(obj.user)) or "—"

    @admin.display(description=_("họ tên"), ordering="user__last_name")
    def full_name(self, obj):
        return obj.full_name


class OfficerInlineForm(forms.ModelForm):
    class Meta:
        model = Officer
        fields = ("department", "title", "phone")


class OfficerInline(admin.StackedInline):
    model = Officer
    form = OfficerInlineForm
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name_plural = _("hồ sơ cán bộ")


class ProvinceUserAdmin(UserAdmin):
    inlines = [OfficerInline]
    list_display = ("username", "first_name", "last_name", "is_staff", "is_active")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Province admins manage accounts and roles, not superuser status or raw permissions.
        hidden = ("is_superuser", "user_permissions")
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in hidden)}) for name, opts in fieldsets
        ]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(is_superuser=False)


admin.site.unregister(User)
admin.site.register(User, ProvinceUserAdmin)
