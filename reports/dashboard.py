"""The province dashboard in the province's admin: what the province is judged on, for a period,
a reception point, a department and a procedure (issue 14).

Every figure comes from `reports.indicators` (``figures``/``breakdown``); nothing is counted here.
Every count that is a number of dossiers links to the dossier list filtered by `IndicatorFilter`
(dossiers/admin.py) with the same indicator and scope, which lists exactly ``dossiers_behind``.

The scope travels in the query string as ``from``/``to`` (dd/mm/yyyy), ``point``, ``department`` and
``procedure`` (ids): the dashboard's form and the dossier list's filter read it with the same
`ScopeForm`, so a link never means something else on the other side.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.models import Procedure
from offices.models import Department

from . import charts, indicators
from .indicators import LABELS, Scope

PERMISSION = "reports.view_reports"
INPUT_FORMAT = "%d/%m/%Y"
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_DAYS = 366
SLOWEST = 10  # procedures in the "slowest" chart
SCOPE_PARAMETERS = ("from", "to", "point", "department", "procedure")


def may_view(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(PERMISSION)))


# --- the scope: the leader's choice, and the dossier list's filter ------------------------------------


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        input_formats=[INPUT_FORMAT],
        widget=forms.DateInput(format=INPUT_FORMAT, attrs={"placeholder": "dd/mm/yyyy", "size": 12}),
        error_messages={"invalid": gettext_lazy("Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy, ví dụ 01/12/2026.")},
    )


def _choice(label, queryset, missing):
    return forms.ModelChoiceField(
        label=label,
        queryset=queryset,
        required=False,
        empty_label=gettext_lazy("Tất cả"),
        error_messages={"invalid_choice": missing},
    )


# "from" is a Python keyword: the fields are declared as a mapping.
_ScopeFields = forms.forms.DeclarativeFieldsMetaclass(
    "_ScopeFields",
    (forms.Form,),
    {
        "__module__": __name__,
        "from": _date_field(gettext_lazy("Từ ngày")),
        "to": _date_field(gettext_lazy("Đến ngày")),
        "point": _choice(
            gettext_lazy("Bộ phận tiếp nhận"),
            Department.objects.none(),
            gettext_lazy("Bộ phận tiếp nhận đã chọn không có trong danh sách."),
        ),
        "department": _choice(
            gettext_lazy("Cơ quan giải quyết"),
            Department.objects.none(),
            gettext_lazy("Cơ quan giải quyết đã chọn không có trong danh sách."),
        ),
        "procedure": _choice(
            gettext_lazy("Thủ tục"),
            Procedure.objects.none(),
            gettext_lazy("Thủ tục đã chọn không có trong danh sách."),
        ),
    },
)


class ScopeForm(_ScopeFields):
    """Period (default: this month) and the optional point, department and procedure → a `Scope`."""

    def __init__(self, data=None, *, today=None):
        self.today = today or timezone.localdate()
        start, end = month_of(self.today)
        super().__init__(data, initial={"from": start, "to": end})
        self.fields["point"].queryset = Department.objects.filter(is_reception=True).order_by("code")
        self.fields["department"].queryset = Department.objects.order_by("code")
        self.fields["procedure"].queryset = Procedure.objects.select_related(None).order_by("code")
        self.fields["procedure"].label_from_instance = lambda p: f"{p.code} — {charts._short(p.name, 70)}"

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is None and end is None:
            start, end = month_of(self.today)
        elif start is None or end is None:
            raise forms.ValidationError(_("Hãy nhập cả “Từ ngày” và “Đến ngày”."), code="incomplete")
        for value in (start, end):
            if not EARLIEST <= value <= LATEST:
                raise forms.ValidationError(
                    _("Ngày phải trong khoảng %(first)s – %(last)s.")
                    % {"first": f"{EARLIEST:%d/%m/%Y}", "last": f"{LATEST:%d/%m/%Y}"},
                    code="out_of_range",
                )
        if end < start:
            raise forms.ValidationError(_("“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”."), code="reversed")
        days = (end - start).days + 1
        if days > MAX_DAYS:
            raise forms.ValidationError(
                _("Mỗi lần chỉ xem được tối đa %(max)s ngày; khoảng đã chọn dài %(days)s ngày.")
                % {"max": MAX_DAYS, "days": days},
                code="too_long",
            )
        cleaned["from"], cleaned["to"] = start, end
        return cleaned

    def scope(self) -> Scope:
        data = self.cleaned_data

        def pk(name):
            return data[name].pk if data.get(name) is not None else None

        return Scope(
            data["from"], data["to"], point=pk("point"), department=pk("department"), procedure=pk("procedure")
        )

    def error_messages(self) -> list[str]:
        return [str(m) for errors in self.errors.values() for m in errors]


def scope_parameters(scope: Scope, **changes) -> dict:
    """The query-string parameters of a scope (those left at "all" are left out)."""
    params = {"from": f"{scope.start:%d/%m/%Y}", "to": f"{scope.end:%d/%m/%Y}"}
    for name in ("point", "department", "procedure"):
        value = changes.get(name, getattr(scope, name))
        if value is not None:
            params[name] = value
    return params


def dossiers_url(key, scope: Scope, **changes) -> str:
    """The dossier list showing the dossiers behind indicator `key` of `scope` (IndicatorFilter)."""
    if "start" in changes or "end" in changes:
        scope = Scope(
            changes.pop("start", scope.start),
            changes.pop("end", scope.end),
            scope.point,
            scope.department,
            scope.procedure,
        )
    query = urlencode({"indicator": key, **scope_parameters(scope, **changes)})
    return f"{reverse('admin:dossiers_dossier_changelist')}?{query}"


# --- periods ----------------------------------------------------------------------------------------


def month_of(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def presets(today: date) -> list[tuple[str, date, date]]:
    """The periods offered as one click: this month, last month, this quarter, this year."""
    last_month = today.replace(day=1) - timedelta(days=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = month_of(date(today.year, quarter_start.month + 2, 1))[1]
    return [
        (_("Tháng này"), *month_of(today)),
        (_("Tháng trước"), *month_of(last_month)),
        (_("Quý này"), quarter_start, quarter_end),
        (_("Năm nay"), date(today.year, 1, 1), date(today.year, 12, 31)),
    ]


# --- what the page shows ----------------------------------------------------------------------------


@dataclass
class Number:
    """One figure on the page: its key, label, raw value, how it reads, and where it leads."""

    key: str
    label: str
    value: object
    text: str
    href: str = ""

    @property
    def raw(self) -> str:
        """The value as data (data-value): unlocalised, empty for none."""
        return "" if self.value is None else str(self.value)


def _count(key, label, figures, scope, link=True):
    value = getattr(figures, key)
    href = dossiers_url(key, scope) if link and key in LABELS else ""
    return Number(key, str(label), value, charts.integer(value), href)


def sections(figures, scope):
    """The figures grouped as the leader reads them: (heading, [Number…])."""
    f = figures

    def c(key, label=None, link=True):
        return _count(key, label or LABELS.get(key, key), f, scope, link)

    return [
        (
            _("Tiếp nhận"),
            [
                Number("to_handle", _("Tổng số phải giải quyết"), f.to_handle, charts.integer(f.to_handle)),
                c("carried_over"),
                c("received"),
                c("received_counter", _("Tiếp nhận trực tiếp")),
                c("received_online", _("Tiếp nhận trực tuyến")),
                c("received_postal", _("Tiếp nhận qua bưu chính")),
                c("refused"),
            ],
        ),
        (
            _("Đã giải quyết"),
            [
                Number("done", _("Đã giải quyết"), f.done, charts.integer(f.done)),
                c("done_early", _("Giải quyết trước hạn")),
                c("done_on_time", _("Giải quyết đúng hạn")),
                c("done_late", _("Giải quyết trễ hạn")),
                Number(
                    "on_time_share", _("Tỷ lệ trước hạn và đúng hạn"), f.on_time_share, charts.percent(f.on_time_share)
                ),
                c("withdrawn"),
                c("stopped"),
            ],
        ),
        (
            _("Đang giải quyết"),
            [
                c("in_progress_within", _("Trong hạn")),
                c("in_progress_late", _("Quá hạn")),
                c("paused", _("Tạm dừng chờ bổ sung")),
            ],
        ),
        (
            _("Thời gian giải quyết (ngày làm việc)"),
            [
                Number("avg_days", _("Trung bình"), f.avg_days, charts.decimal(f.avg_days)),
                Number("p90_days", _("9/10 hồ sơ xong trong (ngày)"), f.p90_days, charts.integer(f.p90_days)),
            ],
        ),
        (
            _("Mức độ hài lòng"),
            [
                c("ratings", _("Lượt đánh giá"), link=False),
                c("satisfied", _("Hài lòng (4–5 sao)"), link=False),
                Number("satisfied_share", _("Tỷ lệ hài lòng"), f.satisfied_share, charts.percent(f.satisfied_share)),
                c("complaints", _("Phản ánh, kiến nghị cần trả lời"), link=False),
                c("complaints_answered", _("Đã trả lời"), link=False),
            ],
        ),
        (
            _("Tin nhắn cho người dân"),
            [
                c("messages_sent", _("Đã gửi"), link=False),
                c("messages_failed", _("Gửi không được"), link=False),
            ],
        ),
    ]


def _week_bounds(monday: date, scope: Scope):
    return max(monday, scope.start), min(monday + timedelta(days=6), scope.end)


def week_chart(rows, scope):
    bars = []
    for row in rows:
        share = row.figures.on_time_share
        start, end = _week_bounds(row.key, scope)
        bars.append(
            charts.Bar(
                label=_("Tuần từ %(day)s") % {"day": f"{row.key:%d/%m}"},
                values={"on_time_share": None if share is None else round(share * 100, 1)},
                href=dossiers_url("done_late", scope, start=start, end=end) if row.figures.done_late else "",
                text=(
                    _("%(share)s (%(done)s hồ sơ)")
                    % {"share": charts.percent(share), "done": charts.integer(row.figures.done)}
                    if share is not None
                    else _("chưa có hồ sơ giải quyết xong")
                ),
            )
        )
    return charts.Chart(
        ident="chart-weeks",
        title=_("Tỷ lệ giải quyết trước hạn và đúng hạn theo tuần"),
        description=_("Mỗi thanh là một tuần (từ thứ Hai): tỷ lệ hồ sơ giải quyết xong trước hạn hoặc đúng hạn."),
        series=[charts.Series("on_time_share", _("Trước hạn và đúng hạn"), "solid")],
        bars=bars,
        fmt=lambda v: charts.percent(None if v is None else v / 100),
        maximum=100,
        empty=_("Không có tuần nào trong khoảng đã chọn."),
        value_width=220,
    )


GRADES = (("done_early", "solid"), ("done_on_time", "hatch"), ("done_late", "dots"))


def department_chart(rows, scope):
    bars = [
        charts.Bar(
            label=row.label,
            values={key: getattr(row.figures, key) for key, _pattern in GRADES},
            hrefs={key: dossiers_url(key, scope, department=row.key) for key, _pattern in GRADES},
        )
        for row in rows
        if row.figures.done
    ]
    return charts.Chart(
        ident="chart-departments",
        title=_("Hồ sơ đã giải quyết theo cơ quan"),
        description=_(
            "Mỗi thanh là một cơ quan: số hồ sơ giải quyết trước hạn (đặc), đúng hạn (gạch chéo) và trễ hạn (chấm)."
        ),
        series=[charts.Series(key, str(LABELS[key]), pattern) for key, pattern in GRADES],
        bars=bars,
        empty=_("Chưa có hồ sơ nào được giải quyết xong trong khoảng đã chọn."),
    )


def slowest(rows):
    """The procedures with dossiers done, slowest first (average days, then the 90th percentile)."""
    done = [row for row in rows if row.figures.done and row.figures.avg_days is not None]
    return sorted(done, key=lambda r: (-r.figures.avg_days, -(r.figures.p90_days or 0), str(r.label)))[:SLOWEST]


def procedure_chart(rows, scope):
    bars = [
        charts.Bar(
            label=row.label,
            values={"avg_days": round(row.figures.avg_days, 1)},
            href=dossiers_url("done_late", scope, procedure=row.key) if row.figures.done_late else "",
            text=_("%(avg)s ngày (trễ hạn: %(late)s)")
            % {"avg": charts.decimal(row.figures.avg_days), "late": charts.integer(row.figures.done_late)},
        )
        for row in rows
    ]
    return charts.Chart(
        ident="chart-procedures",
        title=_("Các thủ tục giải quyết chậm nhất"),
        description=_("Thời gian giải quyết trung bình (ngày làm việc) của %(n)s thủ tục chậm nhất.") % {"n": SLOWEST},
        series=[charts.Series("avg_days", _("Số ngày trung bình"), "hatch")],
        bars=bars,
        fmt=charts.decimal,
        empty=_("Chưa có hồ sơ nào được giải quyết xong trong khoảng đã chọn."),
        value_width=170,
    )


def department_rows(rows, scope):
    """The per-department table: each count links to that department's dossiers behind it."""
    keys = ("received", "done_early", "done_on_time", "done_late", "in_progress_late", "paused")
    table = []
    for row in rows:
        cells = [
            Number(
                key,
                str(LABELS[key]),
                getattr(row.figures, key),
                charts.integer(getattr(row.figures, key)),
                dossiers_url(key, scope, department=row.key),
            )  # fmt: skip
            for key in keys
        ]
        table.append(
            {"key": row.key, "label": row.label, "cells": cells, "share": charts.percent(row.figures.on_time_share)}
        )
    return [str(LABELS[key]) for key in keys], table


def procedure_rows(rows, scope):
    table = []
    for row in rows:
        f = row.figures
        table.append(
            {
                "key": row.key,
                "label": row.label,
                "done": Number("done", "", f.done, charts.integer(f.done)),
                "late": Number(
                    "done_late",
                    str(LABELS["done_late"]),
                    f.done_late,
                    charts.integer(f.done_late),
                    dossiers_url("done_late", scope, procedure=row.key),
                ),  # fmt: skip
                "avg": charts.decimal(f.avg_days),
                "p90": charts.integer(f.p90_days),
            }
        )
    return table


def describe(scope: Scope) -> str:
    parts = [
        _("Từ ngày %(start)s đến ngày %(end)s") % {"start": f"{scope.start:%d/%m/%Y}", "end": f"{scope.end:%d/%m/%Y}"}
    ]
    if scope.point is not None:
        parts.append(_("tiếp nhận tại %(name)s") % {"name": Department.objects.get(pk=scope.point)})
    if scope.department is not None:
        parts.append(_("cơ quan giải quyết: %(name)s") % {"name": Department.objects.get(pk=scope.department)})
    if scope.procedure is not None:
        procedure = Procedure.objects.get(pk=scope.procedure)
        parts.append(_("thủ tục %(code)s") % {"code": procedure.code})
    return "; ".join(parts)


# --- the page ---------------------------------------------------------------------------------------


def dashboard_view(request, admin_site):
    if not may_view(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    submitted = any(name in request.GET for name in SCOPE_PARAMETERS)
    form = ScopeForm(request.GET if submitted else {}, today=today)
    context = {
        **admin_site.each_context(request),
        "title": _("Bảng số liệu của tỉnh"),
        "form": form,
        "presets": [],
        "max_days": MAX_DAYS,
    }
    status = 200
    if form.is_valid():
        scope = form.scope()
        figures = indicators.figures(scope)
        weeks = indicators.breakdown(scope, "week")
        departments = indicators.breakdown(scope, "department")
        procedures = slowest(indicators.breakdown(scope, "procedure"))
        headers, department_table = department_rows(departments, scope)
        context.update(
            scope=scope,
            scope_text=describe(scope),
            figures=figures,
            sections=sections(figures, scope),
            charts=[
                (chart.title, charts.render(chart))
                for chart in (
                    week_chart(weeks, scope),
                    department_chart(departments, scope),
                    procedure_chart(procedures, scope),
                )
            ],
            department_headers=headers,
            department_table=department_table,
            procedure_table=procedure_rows(procedures, scope),
        )
        base = {k: v for k, v in scope_parameters(scope).items() if k not in ("from", "to")}
    else:
        status = 400
        base = {}
    context["presets"] = [
        (label, f"?{urlencode({'from': f'{start:%d/%m/%Y}', 'to': f'{end:%d/%m/%Y}', **base})}")
        for label, start, end in presets(today)
    ]
    response = TemplateResponse(request, "admin/reports/dashboard.html", context, status=status)
    add_never_cache_headers(response)
    return response


def urls(admin_site):
    """The dashboard's URL patterns, for the province admin site's get_urls."""
    return [
        path(
            "reports/dashboard/",
            admin_site.admin_view(lambda request: dashboard_view(request, admin_site)),
            name="reports_dashboard",
        ),
    ]
