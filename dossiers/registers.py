"""Mẫu số 06 Sổ theo dõi hồ sơ: the register of dossiers of one reception point over a period.

A dossier is in a point's register when it was taken in there: received at its counter (``receive``),
or registered online/by post and then accepted (``accept``) or refused (``refuse``) by one of its
officers. The intake event's time decides the period (days in Asia/Ho_Chi_Minh, both ends included),
so every dossier appears in exactly one register, once. Only dossiers the officer may see
(`selectors.visible_dossiers`) are listed.

The register is printed (an A4 landscape HTML page, streamed row by row) or exported to Excel
(openpyxl in write-only mode: rows go to a temporary file as they are read). The database is read
with `.iterator()`, and the period is bounded (MAX_DAYS), so a busy point's year never sits in memory.
"""

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from offices.models import Department
from provinces.selectors import current_province

from .models import DossierEvent, Grade, Status
from .selectors import officer_of, visible_dossiers

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
INPUT_FORMAT = "%d/%m/%Y"
# The events by which a reception point takes a dossier in (each dossier has at most one of them).
RECEIVED_HERE = ("receive", "accept")
REFUSED_HERE = "refuse"
CHUNK = 500  # rows read from the database at a time
HTML_ROWS = 200  # rows rendered into one piece of the streamed page
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def reception_points():
    """The province's reception points (bộ phận một cửa): departments with is_reception."""
    return Department.objects.filter(is_reception=True, is_active=True).order_by("code")


# --- the period and the point: the officer's choice --------------------------------------------------


def _date_field(label, missing):
    return forms.DateField(
        label=label,
        input_formats=[INPUT_FORMAT],
        widget=forms.DateInput(format=INPUT_FORMAT, attrs={"placeholder": "dd/mm/yyyy", "size": 12}),
        error_messages={
            "required": missing,
            "invalid": gettext_lazy("Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy, ví dụ 01/12/2026."),
        },
    )


class RegisterForm(forms.Form):
    point = forms.ModelChoiceField(
        label=gettext_lazy("Bộ phận tiếp nhận"),
        queryset=Department.objects.none(),
        empty_label=None,
        error_messages={
            "required": gettext_lazy("Hãy chọn bộ phận tiếp nhận."),
            "invalid_choice": gettext_lazy("Bộ phận tiếp nhận đã chọn không có trong danh sách."),
        },
    )
    start = _date_field(gettext_lazy("Từ ngày"), gettext_lazy("Hãy nhập “Từ ngày”."))
    end = _date_field(gettext_lazy("Đến ngày"), gettext_lazy("Hãy nhập “Đến ngày”."))

    def __init__(self, data=None, *, user=None, today=None):
        today = today or timezone.localdate()
        officer = officer_of(user) if user is not None else None
        points = reception_points()
        home = officer.department if officer is not None and officer.department.is_reception else points.first()
        initial = {"point": home, "start": today.replace(day=1), "end": today}
        super().__init__(data, initial=initial)
        self.fields["point"].queryset = points

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
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
                _(
                    "Mỗi lần chỉ xem được sổ của tối đa %(max)s ngày; khoảng đã chọn dài %(days)s ngày. "
                    "Hãy chọn khoảng ngắn hơn."
                )
                % {"max": MAX_DAYS, "days": days},
                code="too_long",
            )
        return cleaned

    def period(self):
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included, as days in the province's time zone."""

    start: date
    end: date

    def bounds(self):
        """[from, to) as aware datetimes: 00:00 of `start` to 00:00 of the day after `end`."""
        tz = timezone.get_default_timezone()  # Asia/Ho_Chi_Minh
        first = timezone.make_aware(datetime.combine(self.start, time.min), tz)
        after = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), tz)
        return first, after

    def __str__(self):
        return _("Từ ngày %(start)s đến ngày %(end)s") % {
            "start": f"{self.start:%d/%m/%Y}",
            "end": f"{self.end:%d/%m/%Y}",
        }


# --- the rows ----------------------------------------------------------------------------------------


@dataclass
class Entry:
    number: int
    code: str
    procedure: str
    procedure_code: str
    agency: str  # cơ quan chủ trì giải quyết
    applicant: str
    contact: str  # address, phone
    received_at: datetime  # local time
    channel: str
    appointment: date | None
    result_ready: date | None
    returned: date | None
    status: int
    status_label: str
    grade_label: str
    note: str


@dataclass
class Totals:
    count: int = 0
    returned: int = 0
    refused: int = 0
    open: int = 0
    closed_otherwise: int = 0  # withdrawn, stopped
    grades: dict = field(default_factory=lambda: {g.value: 0 for g in Grade})

    def add(self, entry: Entry, grade: str):
        self.count += 1
        if entry.status == Status.RETURNED:
            self.returned += 1
        elif entry.status == Status.REFUSED:
            self.refused += 1
        elif entry.status in (Status.WITHDRAWN, Status.STOPPED):
            self.closed_otherwise += 1
        else:
            self.open += 1
        if grade in self.grades:
            self.grades[grade] += 1

    def summary(self) -> str:
        parts = [
            _("đã trả kết quả: %(n)s") % {"n": self.returned},
            _("đang giải quyết: %(n)s") % {"n": self.open},
            _("không được tiếp nhận: %(n)s") % {"n": self.refused},
            _("rút, dừng xử lý: %(n)s") % {"n": self.closed_otherwise},
        ] + [f"{str(label).lower()}: {self.grades[value]}" for value, label in Grade.choices]
        return "; ".join(parts)


def intake_events(user, point, period: Period):
    """The intake events of `point` in `period` on dossiers `user` may see, in register order."""
    first, after = period.bounds()
    here = Q(action__in=RECEIVED_HERE, to_department=point) | Q(action=REFUSED_HERE, actor__department=point)
    return (
        DossierEvent.objects.filter(here, created_at__gte=first, created_at__lt=after)
        .filter(dossier__in=visible_dossiers(user).values("pk"))
        .select_related("dossier__procedure__department")
        .order_by("created_at", "id")
    )


def _local_date(moment):
    return timezone.localtime(moment).date() if moment else None


def _entry(number, event) -> Entry:
    dossier = event.dossier
    procedure = dossier.procedure
    notes = []
    if event.action == REFUSED_HERE:
        notes.append(_("Lý do từ chối: %(reason)s") % {"reason": event.citizen_note})
    return Entry(
        number=number,
        code=dossier.code,
        procedure=procedure.name,
        procedure_code=procedure.code,
        agency=procedure.department.name,
        applicant=dossier.applicant_name,
        contact=", ".join(p for p in (dossier.applicant_address, dossier.applicant_phone) if p),
        received_at=timezone.localtime(event.created_at),
        channel=str(dossier.get_channel_display()),
        appointment=dossier.appointment_date,
        result_ready=_local_date(dossier.result_ready_at),
        returned=_local_date(dossier.returned_at),
        status=dossier.status,
        status_label=str(dossier.get_status_display()),
        grade_label=str(dossier.get_grade_display()) if dossier.grade else "",
        note="; ".join(notes),
    )


def entries(user, point, period: Period, totals: Totals):
    """The register's rows, numbered from 1, read in chunks; `totals` is filled as they are read."""
    events = intake_events(user, point, period).iterator(chunk_size=CHUNK)
    for number, event in enumerate(events, start=1):
        entry = _entry(number, event)
        totals.add(entry, event.dossier.grade)
        yield entry


# --- printable page (A4 landscape), streamed ----------------------------------------------------------


def _header(point, period):
    province = current_province()
    return {
        "province_name": province.name,
        "point": point,
        "period": period,
        "title": _("Sổ theo dõi hồ sơ"),
        "printed_at": timezone.localtime(),
    }


def _batched(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def html_chunks(request, user, point, period):
    context = _header(point, period)
    totals = Totals()
    yield render_to_string("dossiers/registers/register_top.html", context, request)
    for batch in _batched(entries(user, point, period, totals), HTML_ROWS):
        yield render_to_string("dossiers/registers/register_rows.html", {"rows": batch})
    yield render_to_string("dossiers/registers/register_bottom.html", {**context, "totals": totals}, request)


def html_response(request, point, period):
    response = StreamingHttpResponse(
        html_chunks(request, request.user, point, period), content_type="text/html; charset=utf-8"
    )
    return _private(response)


# --- Excel -------------------------------------------------------------------------------------------

# (header, width in characters) of the register's columns, in the layout of Mẫu số 06.
COLUMNS = (
    (gettext_lazy("STT"), 5),
    (gettext_lazy("Mã hồ sơ"), 27),
    (gettext_lazy("Tên thủ tục hành chính"), 42),
    (gettext_lazy("Người nộp hồ sơ"), 24),
    (gettext_lazy("Địa chỉ, số điện thoại"), 30),
    (gettext_lazy("Cơ quan giải quyết"), 28),
    (gettext_lazy("Nhận hồ sơ (giờ, ngày)"), 17),
    (gettext_lazy("Hẹn trả kết quả"), 12),
    (gettext_lazy("Có kết quả"), 12),
    (gettext_lazy("Trả kết quả"), 12),
    (gettext_lazy("Trạng thái"), 22),
    (gettext_lazy("Đánh giá"), 11),
    (gettext_lazy("Ký nhận"), 12),
    (gettext_lazy("Ghi chú"), 32),
)
HEADER_ROW = 6  # the column headers; the rows before it name the province, the point and the period
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


def _naive(moment: datetime) -> datetime:
    """Excel has no time zones: local wall-clock time."""
    return timezone.localtime(moment).replace(tzinfo=None)


def excel_file(user, point, period):
    """The register as an .xlsx in a temporary file (rewound), built row by row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    header = _header(point, period)
    wb = Workbook(write_only=True)
    wb.properties.title = f"{header['title']} — {point.name} — {period}"
    wb.properties.creator = header["province_name"]
    ws = wb.create_sheet(title=str(header["title"]))
    last = get_column_letter(len(COLUMNS))
    for index, (_label, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.freeze_panes = f"A{HEADER_ROW + 1}"

    base = "Times New Roman"
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    top_left = Alignment(vertical="top", wrap_text=True)
    centred = Alignment(horizontal="center", vertical="top", wrap_text=True)

    def cell(value, *, bold=False, italic=False, size=11, align=top_left, border=None, number_format=None, fill=None):
        c = WriteOnlyCell(ws, value=value)
        c.font = Font(name=base, size=size, bold=bold, italic=italic)
        c.alignment = align
        if border is not None:
            c.border = border
        if number_format:
            c.number_format = number_format
        if fill is not None:
            c.fill = fill
        return c

    middle = len(COLUMNS) // 2  # the national motto sits over the right half
    mid_left, mid_right = get_column_letter(middle - 1), get_column_letter(middle + 1)
    centre_bold = {"bold": True, "align": Alignment(horizontal="center", vertical="center")}
    ws.append(
        [cell((_("UBND %(province)s") % {"province": header["province_name"]}).upper(), **centre_bold)]
        + [None] * (middle - 1)
        + [cell(_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), **centre_bold)]
    )
    ws.append(
        [cell(point.name.upper(), **centre_bold)]
        + [None] * (middle - 1)
        + [cell(_("Độc lập - Tự do - Hạnh phúc"), **centre_bold)]
    )
    ws.append([])
    ws.append([cell(str(header["title"]).upper(), bold=True, size=14, align=Alignment(horizontal="center"))])
    ws.append([cell(str(period), italic=True, align=Alignment(horizontal="center"))])
    for row in (1, 2):
        ws.merged_cells.add(f"A{row}:{mid_left}{row}")
        ws.merged_cells.add(f"{mid_right}{row}:{last}{row}")
    for row in (4, 5):
        ws.merged_cells.add(f"A{row}:{last}{row}")

    shade = PatternFill("solid", fgColor="E7E6E6")
    ws.append([cell(str(label), bold=True, align=centred, border=box, fill=shade) for label, _width in COLUMNS])

    totals = Totals()
    row = HEADER_ROW
    for entry in entries(user, point, period, totals):
        row += 1
        ws.append(
            [
                cell(entry.number, align=centred, border=box),
                cell(entry.code, border=box),
                cell(entry.procedure, border=box),
                cell(entry.applicant, border=box),
                cell(entry.contact, border=box),
                cell(entry.agency, border=box),
                cell(_naive(entry.received_at), align=centred, border=box, number_format=DATETIME_FORMAT),
                cell(entry.appointment, align=centred, border=box, number_format=DATE_FORMAT),
                cell(entry.result_ready, align=centred, border=box, number_format=DATE_FORMAT),
                cell(entry.returned, align=centred, border=box, number_format=DATE_FORMAT),
                cell(entry.status_label, border=box),
                cell(entry.grade_label, align=centred, border=box),
                cell(None, border=box),
                cell(entry.note, border=box),
            ]
        )
    row += 1
    ws.append(
        [cell(_("Tổng cộng"), bold=True, border=box), cell(None, border=box)]
        + [cell(totals.count, bold=True, border=box, number_format='#,##0 "hồ sơ"')]
        + [cell(totals.summary(), border=box)]
        + [cell(None, border=box) for _i in range(len(COLUMNS) - 4)]
    )
    ws.merged_cells.add(f"A{row}:B{row}")
    ws.merged_cells.add(f"D{row}:{last}{row}")

    output = tempfile.TemporaryFile()  # FileResponse closes it once sent
    wb.save(output)
    output.seek(0)
    return output


def excel_filename(point, period) -> str:
    return f"so-theo-doi-ho-so_{point.code}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"


def excel_response(request, point, period):
    output = excel_file(request.user, point, period)
    response = FileResponse(output, as_attachment=True, filename=excel_filename(point, period), content_type=XLSX)
    return _private(response)


def _private(response):
    """Personal data: never cached, never indexed."""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the admin page ----------------------------------------------------------------------------------

FORMATS = ("html", "xlsx")


def register_view(request, model_admin):
    """The register's page in the province admin: choose the point and the period, then print or export.

    Whoever may view dossiers may open it; the rows are the dossiers they may see."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    submitted = "start" in request.GET or "end" in request.GET or "point" in request.GET
    form = RegisterForm(request.GET if submitted else None, user=request.user)
    output = request.GET.get("format", "html")
    if submitted and output not in FORMATS:
        form.is_valid()
        form.add_error(None, _("Chỉ có thể xem để in hoặc tải về tệp Excel."))
    if submitted and form.is_valid() and output in FORMATS:
        point, period = form.cleaned_data["point"], form.period()
        if output == "xlsx":
            return excel_response(request, point, period)
        return html_response(request, point, period)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Sổ theo dõi hồ sơ"),
        "form": form,
        "max_days": MAX_DAYS,
    }
    response = TemplateResponse(request, "admin/dossiers/dossier/register_form.html", context)
    if submitted:
        response.status_code = 400
    return response
