"""Two admin sites: the national one on the public domain and each province's own.

The national site manages provinces and the national superusers; a province's site manages that
province's officers and work. Keeping them apart means a model registered for one schema never
shows up (and fails) on the other.

Both sites accept only the query-string filters their changelists offer. Django's own
``ModelAdmin.lookup_allowed`` lets any lookup on a local field through (``?oa_secret_key__regex=^a``),
which turns every changelist into an oracle for write-only secrets and password hashes. Every
ModelAdmin registered on either site is made a ``StrictLookupsAdmin`` by the site itself (``register``),
so no admin module has to remember it; a system check and a test verify the registries.
"""

import logging

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.filters import FieldListFilter, SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.core import checks
from django.db import connection
from django.db.models import Field
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

security_logger = logging.getLogger("django.security.DisallowedModelAdminLookup")


class StrictLookupsAdmin:
    """ModelAdmin mixin: a changelist filters only by the parameters of its declared filters.

    Allowed query-string keys are exactly: the parameters the declared ``list_filter`` entries
    expect (``status__exact``, ``department__id__exact``, a SimpleListFilter's ``parameter_name``…),
    the ``date_hierarchy`` drill-down (``<field>__year/__month/__day``), and the fixed
    ``limit_choices_to`` lookups of raw-id popups. Django's own parameters (``q``, ``o``, ``p``,
    ``all``, ``e``, ``_popup``, ``_to_field``, ``_facets``…) never reach ``lookup_allowed``.
    Anything else sends the changelist to its normal "?e=1" page instead of filtering.
    """

    def filter_parameters(self, request):
        """The query-string keys the declared filters of this changelist accept (cached per request)."""
        cache = getattr(request, "_strict_admin_filter_parameters", None) if request is not None else None
        if cache is None:
            cache = {}
            if request is not None:
                request._strict_admin_filter_parameters = cache
        key = id(self)
        if key not in cache:
            cache[key] = frozenset(self._declared_filter_parameters(request))
        return cache[key]

    def _declared_filter_parameters(self, request):
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                yield item.parameter_name
                continue
            if callable(item) and not isinstance(item, (list, tuple)):
                spec = item(request, {}, self.model, self)  # any other custom ListFilter
            else:
                field, filter_class = item if isinstance(item, (list, tuple)) else (item, FieldListFilter.create)
                field_path = None
                if not isinstance(field, Field):
                    field_path = field
                    field = get_fields_from_path(self.model, field_path)[-1]
                spec = filter_class(field, request, {}, self.model, self, field_path=field_path)
            yield from spec.expected_parameters()
        if self.date_hierarchy:
            yield from (f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day"))

    def _is_popup_limit_lookup(self, lookup, value):
        # Raw-id popups of foreign keys to this model carry their fixed limit_choices_to (as Django allows).
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.filter_parameters(request) or self._is_popup_limit_lookup(lookup, value)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except DisallowedModelAdminLookup as exc:
            # The normal "?e=1" answer for bad filters rather than a bare 400; logged as a security event.
            user = getattr(request, "user", None)
            security_logger.warning(
                "refused admin lookup on %s by %s: %s", self.opts.label, getattr(user, "pk", None), exc
            )
            raise IncorrectLookupParameters(str(exc)) from exc


def strict(admin_class):
    """``admin_class`` itself if it already has strict lookups, else a subclass that has them."""
    if issubclass(admin_class, StrictLookupsAdmin):
        return admin_class
    return type(
        admin_class.__name__,
        (StrictLookupsAdmin, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


class StrictLookupsAdminSite(admin.AdminSite):
    """An admin site whose every ModelAdmin has strict changelist lookups, however it was registered."""

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, strict(admin_class or admin.ModelAdmin), **options)


class ProvinceAdminSite(StrictLookupsAdminSite):
    """Each province's admin (``django.contrib.admin.site``, see ``egov.apps.AdminConfig``).

    Every page names the province it belongs to, in the header and in the browser's title: an officer
    with two provinces' tabs open (or a national admin helping one) always sees whose dossiers these are.
    """

    site_header = _("Một Cửa — bộ phận một cửa")
    site_title = _("Một Cửa")
    index_title = _("Bảng điều khiển của tỉnh")

    def province_name(self, request):
        tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
        return getattr(tenant, "name", "") or ""

    def get_urls(self):
        from reports import dashboard, report

        return dashboard.urls(self) + report.urlpatterns(self) + super().get_urls()

    def report_links(self, request):
        """The report pages this user may open: (label, url), shown as the "Báo cáo, thống kê" section
        of the index and the sidebar."""
        from reports import dashboard, report

        links = []
        if dashboard.may_view(request.user):
            links.append((_("Bảng số liệu của tỉnh"), reverse(f"{self.name}:reports_dashboard")))
        links += report.links(request.user, self)  # the periodic report and its Excel file
        return links

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label not in (None, "reports"):
            return app_list
        links = self.report_links(request)
        if not links:
            return app_list
        models = [
            {"name": label, "object_name": f"ReportPage{index}", "admin_url": url, "add_url": None, "view_only": True,
             "perms": {"view": True}}
            for index, (label, url) in enumerate(links)
        ]  # fmt: skip
        existing = next((app for app in app_list if app["app_label"] == "reports"), None)
        if existing is not None:
            existing["models"] = models + existing["models"]
        else:
            app = {"name": _("Báo cáo, thống kê"), "app_label": "reports", "app_url": links[0][1],
                   "has_module_perms": True, "models": models}  # fmt: skip
            app_list.insert(0, app)
        return app_list

    def each_context(self, request):
        context = super().each_context(request)
        name = self.province_name(request)
        if name:
            context["province_name"] = name
            context["site_header"] = _("Một Cửa — %(province)s") % {"province": name}
            context["site_title"] = _("Một Cửa %(province)s") % {"province": name}
        return context

    def login(self, request, extra_context=None):
        """The login page names the provinces merged into this one: their officers whose username this
        province already had now log in with the old province's prefix (provinces/merging.py)."""
        from provinces.models import Province

        tenant = getattr(request, "tenant", None)
        merged = list(Province.objects.filter(merged_into=tenant).values("name", "slug")) if tenant else []
        return super().login(request, {**(extra_context or {}), "merged_provinces": merged})


class NationalAdminSite(StrictLookupsAdminSite):
    site_header = _("Một Cửa — quản trị quốc gia")
    site_title = _("Một Cửa — quản trị quốc gia")
    index_title = _("Quản lý các tỉnh, thành phố")
    index_template = "admin/reports/national_index.html"  # links the national view

    def get_urls(self):
        from reports import national

        return national.urlpatterns(self) + super().get_urls()


national_admin_site = NationalAdminSite(name="national_admin")


def admin_sites():
    """Both sites: every registry a request can reach."""
    return (admin.site, national_admin_site)


@checks.register(checks.Tags.admin, checks.Tags.security)
def check_strict_lookups(app_configs=None, **kwargs):
    """Refuse to start if any registered ModelAdmin could filter by arbitrary query-string lookups."""
    errors = []
    for site in admin_sites():
        for model, model_admin in site._registry.items():
            if not isinstance(model_admin, StrictLookupsAdmin):
                errors.append(
                    checks.Error(
                        f"{model._meta.label} is registered on {site.name} without strict changelist lookups.",
                        hint="Register it through egov.admin_sites (a StrictLookupsAdminSite).",
                        obj=model_admin,
                        id="egov.E001",
                    )
                )
    return errors
