"""The periodic report in the official layout: "Tình hình, kết quả giải quyết thủ tục hành chính".

One row per handling department (``procedure.department``) and, under it, one per field (lĩnh vực,
``procedure.field``); a total row; the province, the period, the date it was made and the signature
block. Shown as a printable page (A4 landscape, black and white) in the province's admin and as an
Excel file (`reports.excel`). Every number comes from `indicators`: a department's row is its row of
``breakdown(scope, "department")``, a field's row its row of ``breakdown(department's scope, "field")``,
the total ``figures(scope)``; nothing is counted here.

Who may see it: officers with ``reports.view_reports`` (leaders and province admins). The report is
aggregated figures, no personal data: opening or downloading it is not written to the personal data
access log (``dossiers.access``); it is logged as an ordinary event (logger ``reports``).
"""

import calendar
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import indicators
from .indicators import Figures, Scope

logger = logging.getLogger("reports")

PERMISSION = "reports.view_reports"
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099
MAX_DAYS = 5 * 366  # a from–to period at most this long (five years)
INPUT_FORMAT = "%d/%m/%Y"
FORMATS = ("html", "xlsx")


# --- the period: month / quarter / year / from–to ---------------------------------------------------

MONTH, QUARTER, YEAR, RANGE = "month", "quarter", "year", "range"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def roman(number: int) -> str:
    """I, II, … XXXIX…: the official numbering of the report's sections (departments)."""
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        input_formats=[INPUT_FORMAT],
        widget=forms.DateInput(format=INPUT_FORMAT, attrs={"placeholder": "dd/mm/yyyy", "size": 11}),
        error_messages={
            "invalid": gettext_lazy("Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy, ví dụ 01/12/2026."),
        },
    )


class PeriodForm(forms.Form):
    """The report's period, chosen as a month, a quarter, a year of the calendar, or any from–to days.

    Valid input gives ``dates()``: (start, end), both days included. Anything else is a Vietnamese
    error on the field or on the form, never a guess."""

    period = forms.ChoiceField(
        label=gettext_lazy("Kỳ báo cáo"),
        choices=(
            (MONTH, gettext_lazy("Tháng")),
            (QUARTER, gettext_lazy("Quý")),
            (YEAR, gettext_lazy("Năm")),
            (RANGE, gettext_lazy("Từ ngày – đến ngày")),
        ),
        error_messages={
            "required": gettext_lazy("Hãy chọn kỳ báo cáo."),
            "invalid_choice": gettext_lazy("Kỳ báo cáo phải là tháng, quý, năm hoặc một khoảng ngày."),
        },
    )
    month = forms.TypedChoiceField(
        label=gettext_lazy("Tháng"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[(m, m) for m in range(1, 13)],
        error_messages={"invalid_choice": gettext_lazy("Tháng phải từ 1 đến 12.")},
    )
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quý"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[(q, ROMAN[q - 1]) for q in range(1, 5)],
        error_messages={"invalid_choice": gettext_lazy("Quý phải từ I đến IV.")},
    )
    year = forms.IntegerField(
        label=gettext_lazy("Năm"),
        required=False,
        widget=forms.NumberInput(attrs={"style": "width: 6em"}),
        error_messages={"invalid": gettext_lazy("Năm phải là một số, ví dụ 2026.")},
    )
    start = _date_field(gettext_lazy("Từ ngày"))
    end = _date_field(gettext_lazy("Đến ngày"))

    def __init__(self, data=None, *, today=None):
        self.today = today or timezone.localdate()
        initial = {
            "period": MONTH,
            "month": self.today.month,
            "quarter": (self.today.month - 1) // 3 + 1,
            "year": self.today.year,
            "start": self.today.replace(day=1),
            "end": self.today,
        }
        super().__init__(data, initial=initial)

    # The fields each kind of period reads; the others' input is ignored (not validated against).
    FIELDS = {MONTH: ("month", "year"), QUARTER: ("quarter", "year"), YEAR: ("year",), RANGE: ("start", "end")}

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("period")
        if kind is None:
            return cleaned
        for name in {"month", "quarter", "year", "start", "end"} - set(self.FIELDS[kind]):
            self._errors.pop(name, None)
            cleaned.pop(name, None)
        if self.errors:
            return cleaned
        if kind == RANGE:
            start, end = cleaned.get("start"), cleaned.get("end")
            if start is None:
                self.add_error("start", _("Hãy nhập “Từ ngày”."))
            if end is None:
                self.add_error("end", _("Hãy nhập “Đến ngày”."))
            if start is None or end is None:
                return cleaned
            for value in (start, end):
                if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                    raise forms.ValidationError(
                        _("Ngày phải trong khoảng %(first)s – %(last)s.")
                        % {"first": f"01/01/{EARLIEST_YEAR}", "last": f"31/12/{LATEST_YEAR}"},
                        code="out_of_range",
                    )
            if end < start:
                raise forms.ValidationError(_("“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”."), code="reversed")
            days = (end - start).days + 1
            if days > MAX_DAYS:
                raise forms.ValidationError(
                    _("Kỳ báo cáo dài tối đa %(max)s ngày; khoảng đã chọn dài %(days)s ngày.")
                    % {"max": MAX_DAYS, "days": days},
                    code="too_long",
                )
        else:
            year = cleaned.get("year")
            if year is None:
                self.add_error("year", _("Hãy nhập năm."))
                return cleaned
            if not EARLIEST_YEAR <= year <= LATEST_YEAR:
                bounds = {"first": EARLIEST_YEAR, "last": LATEST_YEAR}
                self.add_error("year", _("Năm phải trong khoảng %(first)s – %(last)s.") % bounds)
                return cleaned
            if kind == MONTH:
                month = cleaned.get("month")
                if month is None:
                    self.add_error("month", _("Hãy chọn tháng."))
                    return cleaned
                start = date(year, month, 1)
                end = date(year, month, calendar.monthrange(year, month)[1])
            elif kind == QUARTER:
                quarter = cleaned.get("quarter")
                if quarter is None:
                    self.add_error("quarter", _("Hãy chọn quý."))
                    return cleaned
                start = date(year, 3 * quarter - 2, 1)
                last_month = 3 * quarter
                end = date(year, last_month, calendar.monthrange(year, last_month)[1])
            else:
                start, end = date(year, 1, 1), date(year, 12, 31)
        if start > self.today:
            raise forms.ValidationError(
                _("Kỳ báo cáo chưa bắt đầu: ngày đầu kỳ %(start)s là sau hôm nay (%(today)s).")
                % {"start": f"{start:%d/%m/%Y}", "today": f"{self.today:%d/%m/%Y}"},
                code="future",
            )
        cleaned["range"] = (start, end)
        return cleaned

    def dates(self) -> tuple[date, date]:
        return self.cleaned_data["range"]

    def query(self) -> str:
        """The chosen period as a query string (for the Excel link next to the page)."""
        from urllib.parse import urlencode

        data = self.cleaned_data
        values = {"period": data["period"]}
        for key in self.FIELDS[data["period"]]:
            value = data[key]
            values[key] = f"{value:%d/%m/%Y}" if isinstance(value, date) else value
        return urlencode(values)


def period_text(start: date, end: date) -> str:
    return _("Kỳ báo cáo: từ %(start)s đến %(end)s") % {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"}


# --- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A number column: its header (a leaf of HEADER) and how it reads a row's figures."""

    key: str

    def value(self, figures: Figures) -> int:
        return VALUES[self.key](figures)


# How each number column is read from the figures (a sum where the column joins two indicators).
VALUES = {
    "to_handle": lambda f: f.to_handle,
    "carried_over": lambda f: f.carried_over,
    "received_online": lambda f: f.received_online,
    "received_counter": lambda f: f.received_counter,
    "received_postal": lambda f: f.received_postal,
    "done": lambda f: f.done,
    "done_early": lambda f: f.done_early,
    "done_on_time": lambda f: f.done_on_time,
    "done_late": lambda f: f.done_late,
    "in_progress": lambda f: f.in_progress_within + f.in_progress_late,
    "in_progress_within": lambda f: f.in_progress_within,
    "in_progress_late": lambda f: f.in_progress_late,
    "paused": lambda f: f.paused,
    "withdrawn_stopped": lambda f: f.withdrawn + f.stopped,
}

NUMBER_LABEL, NAME_LABEL = "#", "name"  # the two leading columns' keys

# The header as the official form draws it: (label, key) for a column, (label, (children…)) for a group.
HEADER = (
    (gettext_lazy("STT"), NUMBER_LABEL),
    (gettext_lazy("Đơn vị, lĩnh vực giải quyết"), NAME_LABEL),
    (
        gettext_lazy("Số hồ sơ phải giải quyết"),
        (
            (gettext_lazy("Tổng số"), "to_handle"),
            (gettext_lazy("Kỳ trước chuyển qua"), "carried_over"),
            (
                gettext_lazy("Tiếp nhận mới trong kỳ"),
                (
                    (gettext_lazy("Trực tuyến"), "received_online"),
                    (gettext_lazy("Trực tiếp"), "received_counter"),
                    (gettext_lazy("Bưu chính"), "received_postal"),
                ),
            ),
        ),
    ),
    (
        gettext_lazy("Số hồ sơ đã giải quyết"),
        (
            (gettext_lazy("Tổng số"), "done"),
            (gettext_lazy("Trước hạn"), "done_early"),
            (gettext_lazy("Đúng hạn"), "done_on_time"),
            (gettext_lazy("Trễ hạn"), "done_late"),
        ),
    ),
    (
        gettext_lazy("Số hồ sơ đang giải quyết"),
        (
            (gettext_lazy("Tổng số"), "in_progress"),
            (gettext_lazy("Trong hạn"), "in_progress_within"),
            (gettext_lazy("Quá hạn"), "in_progress_late"),
        ),
    ),
    (gettext_lazy("Chờ bổ sung"), "paused"),
    (gettext_lazy("Rút, dừng xử lý"), "withdrawn_stopped"),
)


def _depth(node) -> int:
    _label, content = node
    return 1 if isinstance(content, str) else 1 + max(_depth(child) for child in content)


def _leaves(node) -> list[str]:
    _label, content = node
    return [content] if isinstance(content, str) else [key for child in content for key in _leaves(child)]


HEADER_ROWS = max(_depth(node) for node in HEADER)
LEAVES = [key for node in HEADER for key in _leaves(node)]
COLUMNS = [Column(key) for key in LEAVES if key in VALUES]
assert LEAVES == [NUMBER_LABEL, NAME_LABEL] + [c.key for c in COLUMNS]  # noqa: S101 - a definition error


@dataclass(frozen=True)
class HeaderCell:
    """One cell of the multi-level header: 0-based row and column, its spans, its text."""

    row: int
    column: int
    rowspan: int
    colspan: int
    label: str


def header_cells() -> list[HeaderCell]:
    """The header's cells, row by row, left to right: a group spans its columns, a column spans the
    rows down to the last header row."""
    cells = []

    def walk(nodes, row, column):
        for label, content in nodes:
            if isinstance(content, str):
                cells.append(HeaderCell(row, column, HEADER_ROWS - row, 1, str(label)))
                column += 1
            else:
                width = len(_leaves((label, content)))
                cells.append(HeaderCell(row, column, 1, width, str(label)))
                walk(content, row + 1, column)
                column += width
        return column

    walk(HEADER, 0, 0)
    return sorted(cells, key=lambda c: (c.row, c.column))


def header_rows() -> list[list[HeaderCell]]:
    rows = [[] for _row in range(HEADER_ROWS)]
    for cell in header_cells():
        rows[cell.row].append(cell)
    return rows


DEPARTMENT, FIELD, TOTAL = "department", "field", "total"


@dataclass
class Line:
    """A row of the table: a department (numbered I, II…), a field under it (1, 2…) or the total."""

    level: str
    number: str
    label: str
    figures: Figures
    key: object = None

    @property
    def values(self) -> list[int]:
        return [column.value(self.figures) for column in COLUMNS]

    @property
    def shown(self) -> list[str]:
        """The values as printed: thousands separated by a dot, as Vietnamese writes them."""
        return [f"{value:,}".replace(",", ".") for value in self.values]


@dataclass
class Report:
    province_name: str
    start: date
    end: date
    made_at: datetime  # local time
    lines: list[Line]
    total: Line

    @property
    def period_text(self) -> str:
        return period_text(self.start, self.end)

    @property
    def title(self) -> str:
        return _("Tình hình, kết quả giải quyết thủ tục hành chính")

    def rows(self) -> list[Line]:
        return [*self.lines, self.total]


def _is_empty(figures: Figures) -> bool:
    return not any(column.value(figures) for column in COLUMNS)


def build(scope: Scope, province_name: str, now: datetime | None = None) -> Report:
    """The report of `scope` in the current province's schema.

    Each department the breakdown names (those with something in the period) has its row; its fields
    follow, those with nothing in the table's columns left out."""
    lines = []
    for index, row in enumerate(indicators.breakdown(scope, "department"), start=1):
        lines.append(Line(DEPARTMENT, roman(index), str(row.label), row.figures, row.key))
        fields = indicators.breakdown(replace(scope, department=row.key), "field")
        number = 0
        for field_row in fields:
            if _is_empty(field_row.figures):
                continue
            number += 1
            lines.append(Line(FIELD, str(number), str(field_row.label), field_row.figures, field_row.key))
    total = Line(TOTAL, "", _("Tổng cộng"), indicators.figures(scope))
    return Report(
        province_name=province_name,
        start=scope.start,
        end=scope.end,
        made_at=timezone.localtime(now or timezone.now()),
        lines=lines,
        total=total,
    )


# --- the page -----------------------------------------------------------------------------------------


def _province_name(request) -> str:
    from provinces.selectors import current_province

    return current_province().name


def report_view(request, site):
    """The report's page: choose the period; the table, ready to print, and its Excel download."""
    if not may_view(request.user):
        raise PermissionDenied
    submitted = "period" in request.GET
    form = PeriodForm(request.GET if submitted else None)
    output = request.GET.get("format", "html")
    if submitted and output not in FORMATS:
        form.is_valid()
        form.add_error(None, _("Chỉ có thể xem để in hoặc tải về tệp Excel."))
    report = None
    if not submitted or form.is_valid():
        if submitted:
            start, end = form.dates()
            query = form.query()
        else:  # the first visit: this month so far
            start, end = form.initial["start"], form.initial["end"]
            query = f"period={MONTH}&month={start.month}&year={start.year}"
        report = build(Scope(start=start, end=end), _province_name(request))
        logger.info(
            "report %s–%s as %s by %s", f"{start:%d/%m/%Y}", f"{end:%d/%m/%Y}", output, request.user.get_username()
        )
        if output == "xlsx":
            from .excel import excel_response

            return _private(excel_response(report, request))
    context = {
        **site.each_context(request),
        "title": _("Báo cáo tình hình, kết quả giải quyết thủ tục hành chính"),
        "form": form,
        "report": report,
        "header_rows": header_rows(),
        "column_numbers": range(1, len(LEAVES) + 1),
        "excel_url": f"{request.path}?{query}&format=xlsx" if report else None,
    }
    response = TemplateResponse(request, "admin/reports/report.html", context)
    if submitted and report is None:
        response.status_code = 400
    return _private(response)


def _private(response):
    """Figures of a province's work: not for shared caches or search engines."""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def urlpatterns(site):
    """The report's URLs in the province admin site (`ProvinceAdminSite.get_urls`)."""
    view = site.admin_view(lambda request: report_view(request, site))
    return [path("bao-cao/dinh-ky/", view, name="reports_report")]


def may_view(user) -> bool:
    return bool(user and user.is_active and user.has_perm(PERMISSION))


def links(user, site) -> list[tuple[str, str]]:
    """The report's entry in the index's "Báo cáo, thống kê" section, for those who may open it."""
    if not may_view(user):
        return []
    return [(_("Báo cáo tình hình giải quyết thủ tục hành chính"), reverse(f"{site.name}:reports_report"))]
