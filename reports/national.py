"""The national view: every province side by side on the same indicators, for one period.

Served by the national admin site (the public schema's admin, superusers only). Each province's
figures are computed inside its own schema in turn (``tenant_context`` then ``indicators.figures``),
so no query ever joins two schemas. A province whose figures cannot be computed (its schema missing
or broken, an error in the computation) is shown as unavailable and logged; the others are still
shown. Each province is read inside a savepoint, so a failed query does not poison the request's
transaction for the provinces after it.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, tenant_context

from . import indicators
from .indicators import Figures, Scope
from .report import MONTH, PeriodForm, period_text

logger = logging.getLogger("reports")


@dataclass
class ProvinceFigures:
    province: object  # provinces.models.Province
    figures: Figures | None  # None: unavailable

    @property
    def available(self) -> bool:
        return self.figures is not None


def provinces():
    from provinces.models import Province

    # A merged province's frozen schema still holds the dossiers its target now holds too: counted once,
    # in the target (provinces/merging.py).
    return (
        Province.objects.exclude(schema_name=get_public_schema_name())
        .filter(merged_into__isnull=True)
        .order_by("name", "pk")
    )


def province_figures(province, scope: Scope) -> Figures | None:
    """`figures(scope)` computed in `province`'s schema, or None if that fails."""
    try:
        with transaction.atomic(), tenant_context(province):
            return indicators.figures(scope)
    except Exception:  # one province's failure must not hide the others
        logger.exception("figures of %s (%s) unavailable", province.name, province.schema_name)
        return None


def national_figures(scope: Scope) -> list[ProvinceFigures]:
    return [ProvinceFigures(province, province_figures(province, scope)) for province in provinces()]


def total(rows: list[ProvinceFigures]) -> Figures:
    """The sum over the available provinces: counts add up; the average days are weighted by the
    dossiers done (the durations' counts where given); shares follow from the summed counts."""
    out = Figures()
    weighted_days, weight = 0.0, 0
    for row in rows:
        if not row.available:
            continue
        for key, value in row.figures.counts().items():
            setattr(out, key, getattr(out, key) + value)
        for days, count in (row.figures.durations or {}).items():
            out.durations[days] = out.durations.get(days, 0) + count
        if row.figures.avg_days is not None:
            n = sum((row.figures.durations or {}).values()) or row.figures.done
            weighted_days += row.figures.avg_days * n
            weight += n
    out.avg_days = weighted_days / weight if weight else None
    return out


def percent(share: float | None) -> str:
    """0.8734 → "87,3%" (Vietnamese decimal comma); no share → "—"."""
    return "—" if share is None else f"{share * 100:.1f}".replace(".", ",") + "%"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@dataclass
class Shown:
    """A row of the national table as the page prints it."""

    name: str
    slug: str
    available: bool
    cells: list[str]


def shown(name, slug, figures: Figures | None) -> Shown:
    if figures is None:
        return Shown(name, slug, False, [])
    return Shown(
        name,
        slug,
        True,
        [
            number(figures.received),
            number(figures.done),
            percent(figures.on_time_share),
            number(figures.in_progress_late),
            days(figures.avg_days),
            percent(figures.satisfied_share),
            number(figures.messages_failed),
        ],
    )


def national_view(request, site):
    if not request.user.is_superuser:
        raise PermissionDenied
    submitted = "period" in request.GET
    form = PeriodForm(request.GET if submitted else None)
    rows = total_row = scope = None
    if not submitted or form.is_valid():
        if submitted:
            start, end = form.dates()
        else:
            start, end = form.initial["start"], form.initial["end"]
        scope = Scope(start=start, end=end)
        results = national_figures(scope)
        rows = [shown(r.province.name, r.province.slug, r.figures) for r in results]
        total_row = shown(_("Cả nước"), "", total(results)) if any(r.available for r in results) else None
    context = {
        **site.each_context(request),
        "title": _("Các tỉnh, thành phố: kết quả giải quyết hồ sơ"),
        "form": form,
        "rows": rows,
        "total": total_row,
        "unavailable": sum(1 for r in rows or () if not r.available),
        "period_text": period_text(scope.start, scope.end) if scope else "",
        "default_period": MONTH,
    }
    response = TemplateResponse(request, "admin/reports/national.html", context)
    if submitted and rows is None:
        response.status_code = 400
    return response


def urlpatterns(site):
    """The national view's URL in the national admin site (`NationalAdminSite.get_urls`)."""
    view = site.admin_view(lambda request: national_view(request, site))
    return [path("bao-cao/cac-tinh/", view, name="reports_national")]
