from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from dossiers.text import fold
from egov.admin_sites import national_admin_site
from egov.permission_labels import PermissionLabelsAdmin
from offices.forms import OfficerLoginForm

from .models import Domain, Province


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ("domain", "is_primary")
        # django-tenants' fields have no (translatable) names of their own.
        labels = {"domain": _("tên miền"), "is_primary": _("tên miền chính")}


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
    extra = 0


@admin.register(Province, site=national_admin_site)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "agency_code", "admin_code", "primary_domain", "created_at", "accounts_link")
    # Searched on the folded column (get_search_results): "da nang" finds "Thành phố Đà Nẵng".
    search_fields = ("name", "slug", "agency_code")
    exclude = ("schema_name",)  # set from the slug when the province is created; shown read-only below
    readonly_fields = ("schema", "created_at", "merged_into", "merged_at")
    inlines = [DomainInline]

    @admin.display(description=_("lược đồ dữ liệu"))
    def schema(self, obj):
        return obj.schema_name or "—"

    @admin.display(description=_("tên miền chính"), ordering="primary_domain_name")
    def primary_domain(self, obj):
        return obj.primary_domain_name or "—"

    def get_queryset(self, request):
        # The primary domain comes with the row (a subquery), not one query per province of the list.
        primary = Domain.objects.filter(tenant=OuterRef("pk"), is_primary=True).order_by("pk").values("domain")[:1]
        return (
            super()
            .get_queryset(request)
            .exclude(schema_name=get_public_schema_name())
            .annotate(primary_domain_name=Subquery(primary))
        )

    def get_search_results(self, request, queryset, search_term):
        # Each word, folded as Province.search_text is, contained in it (diacritics and case ignored).
        for word in fold(search_term).split():
            queryset = queryset.filter(search_text__contains=word)
        return queryset, False

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

    @admin.display(description=_("tài khoản quản trị"))
    def accounts_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("national_admin:provinces_province_accounts", args=[obj.pk]), _("quản lý")
        )

    def get_urls(self):
        # Granting the province-admin role and resetting a province admin's password (offices.national).
        return [
            path(
                "<int:pk>/tai-khoan/",
                self.admin_site.admin_view(self.accounts_view),
                name="provinces_province_accounts",
            ),
        ] + super().get_urls()

    def accounts_view(self, request, pk):
        from offices.national import province_accounts

        province = self.get_object(request, str(pk))
        if province is None:
            raise Http404
        return province_accounts(request, province, self.admin_site)


class NationalUserAdmin(PermissionLabelsAdmin, UserAdmin):
    """Django's user page, its permissions named in the reader's language."""


class NationalGroupAdmin(PermissionLabelsAdmin, GroupAdmin):
    """Django's group page, its permissions named in the reader's language."""


national_admin_site.register(User, NationalUserAdmin)
# The national admin logs in with password and TOTP code, like the provinces' admins.
national_admin_site.login_form = OfficerLoginForm
national_admin_site.register(Group, NationalGroupAdmin)
