from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from egov.admin_sites import national_admin_site

from .models import Domain, Province


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Province, site=national_admin_site)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "agency_code", "admin_code", "primary_domain", "created_at")
    search_fields = ("name", "slug", "agency_code")
    readonly_fields = ("schema_name", "created_at")
    inlines = [DomainInline]

    @admin.display(description=_("tên miền chính"))
    def primary_domain(self, obj):
        domain = obj.get_primary_domain()
        return domain.domain if domain else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name=get_public_schema_name())

    def get_readonly_fields(self, request, obj=None):
        # The slug names the schema; it cannot change once the schema exists.
        return (*self.readonly_fields, "slug") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.schema_name = obj.slug
        super().save_model(request, obj, form, change)
        if not change:
            messages.info(request, _("Đã tạo lược đồ dữ liệu riêng cho tỉnh."))

    def has_delete_permission(self, request, obj=None):
        # Dropping a province's schema destroys its records; it is an operator's decision.
        return False


national_admin_site.register(User, UserAdmin)
national_admin_site.register(Group, GroupAdmin)
