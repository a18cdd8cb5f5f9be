"""The periodic report (`reports.report`) as an Excel file (openpyxl): the same table as the printed page.

Letterhead, title and period; the multi-level header as merged cells, with the columns numbered (1),
(2)… under it as on the official form; one row per department (bold, numbered I, II…) and per field;
the total; the signature block. Integers with a thousands separator, fixed column widths, the header
and the two name columns frozen, A4 landscape fitted to the page width with the header repeated on
every printed page. Text is stored as Unicode strings (UTF-8 in the file), so Vietnamese is intact in
Excel and LibreOffice alike.
"""

import io

from django.http import FileResponse
from django.utils.translation import gettext as _

from .report import DEPARTMENT, HEADER_ROWS, LEAVES, TOTAL, Report, header_cells

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_HEADER_ROW = 7  # rows 1–6: letterhead, title, period, unit
NUMBERS_ROW = FIRST_HEADER_ROW + HEADER_ROWS  # (1), (2)… under the header
FIRST_DATA_ROW = NUMBERS_ROW + 1
NUMBER_FORMAT = "#,##0"
FONT = "Times New Roman"
WIDTHS = {0: 6, 1: 42}  # STT, the name; every number column is NUMBER_WIDTH wide
NUMBER_WIDTH = 10.5


def workbook(report: Report):
    """The report as an openpyxl Workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    ws.title = _("Báo cáo TTHC")
    width = len(LEAVES)
    last = get_column_letter(width)

    wb.properties.title = f"{report.title} — {report.province_name}"
    wb.properties.subject = report.period_text
    wb.properties.creator = _("Một Cửa — %(province)s") % {"province": report.province_name}
    wb.properties.description = f"{report.title}. {report.period_text}."
    wb.properties.keywords = _("báo cáo, thủ tục hành chính, một cửa")
    wb.properties.language = "vi-VN"
    wb.properties.created = report.made_at.replace(tzinfo=None)
    wb.properties.modified = report.made_at.replace(tzinfo=None)

    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    right = Alignment(horizontal="right", vertical="center")

    def put(row, column, value, *, bold=False, italic=False, size=12, align=centre, border=None, number_format=None):
        cell = ws.cell(row=row, column=column, value=value)
        cell.font = Font(name=FONT, size=size, bold=bold, italic=italic)
        cell.alignment = align
        if border is not None:
            cell.border = border
        if number_format:
            cell.number_format = number_format
        return cell

    def merge(row, first, last_column, end_row=None):
        ws.merge_cells(start_row=row, start_column=first, end_row=end_row or row, end_column=last_column)

    # Letterhead: the province on the left, the national motto on the right; then title and period.
    split = 5  # columns A–E on the left, K–P on the right
    right_first = width - split
    put(1, 1, (_("UBND %(province)s") % {"province": report.province_name}).upper(), bold=True)
    merge(1, 1, split)
    put(1, right_first, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), bold=True)
    merge(1, right_first, width)
    put(2, right_first, _("Độc lập - Tự do - Hạnh phúc"), bold=True)
    merge(2, right_first, width)
    put(3, right_first, _("Ngày lập báo cáo: %(date)s") % {"date": f"{report.made_at:%d/%m/%Y}"}, italic=True)
    merge(3, right_first, width)
    put(4, 1, report.title.upper(), bold=True, size=14)
    merge(4, 1, width)
    put(5, 1, report.period_text, italic=True)
    merge(5, 1, width)
    put(6, width - 3, _("Đơn vị tính: hồ sơ"), italic=True, size=11, align=right)
    merge(6, width - 3, width)
    ws.row_dimensions[4].height = 22

    # The header: each cell merged over its spans, every cell of the block boxed.
    for row in range(FIRST_HEADER_ROW, NUMBERS_ROW + 1):
        for column in range(1, width + 1):
            put(row, column, None, border=box)
    for cell in header_cells():
        row, column = FIRST_HEADER_ROW + cell.row, 1 + cell.column
        put(row, column, cell.label, bold=True, size=11, border=box)
        if cell.rowspan > 1 or cell.colspan > 1:
            ws.merge_cells(
                start_row=row, start_column=column, end_row=row + cell.rowspan - 1, end_column=column + cell.colspan - 1
            )
    for column in range(1, width + 1):
        put(NUMBERS_ROW, column, f"({column})", italic=True, size=10, border=box)
    for offset in range(HEADER_ROWS):
        ws.row_dimensions[FIRST_HEADER_ROW + offset].height = 32 if offset < HEADER_ROWS - 1 else 30

    # The rows and the total.
    row = FIRST_DATA_ROW
    for line in report.rows():
        bold = line.level in (DEPARTMENT, TOTAL)
        put(row, 1, line.number, bold=bold, border=box)
        put(row, 2, line.label, bold=bold, border=box, align=left)
        for column, value in enumerate(line.values, start=3):
            put(row, column, value, bold=bold, border=box, align=right, number_format=NUMBER_FORMAT)
        if line.level == TOTAL:
            put(row, 1, None, bold=True, border=box)
            put(row, 2, line.label.upper(), bold=True, border=box, align=centre)
        row += 1
    last_row = row - 1

    # The signature block, two rows below the table.
    row += 1
    put(row, 1, _("Người lập biểu").upper(), bold=True)
    merge(row, 1, split)
    put(row, right_first, _("Thủ trưởng đơn vị").upper(), bold=True)
    merge(row, right_first, width)
    put(row + 1, 1, _("(Ký, ghi rõ họ tên)"), italic=True, size=11)
    merge(row + 1, 1, split)
    put(row + 1, right_first, _("(Ký tên, đóng dấu)"), italic=True, size=11)
    merge(row + 1, right_first, width)

    # Layout: widths, frozen header and names, the printed page.
    for index in range(width):
        ws.column_dimensions[get_column_letter(index + 1)].width = WIDTHS.get(index, NUMBER_WIDTH)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    ws.print_title_rows = f"{FIRST_HEADER_ROW}:{NUMBERS_ROW}"
    ws.print_area = f"A1:{last}{row + 1}"
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.sheet_view.zoomScale = 90
    assert last_row == FIRST_DATA_ROW + len(report.rows()) - 1  # noqa: S101 - the layout's own arithmetic
    return wb


def excel_bytes(report: Report) -> bytes:
    output = io.BytesIO()
    workbook(report).save(output)
    return output.getvalue()


def filename(report: Report, slug: str = "") -> str:
    prefix = f"bao-cao-tthc_{slug}_" if slug else "bao-cao-tthc_"
    return f"{prefix}{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"


def excel_response(report: Report, request=None):
    from django.db import connection

    slug = getattr(getattr(connection, "tenant", None), "slug", "") or ""
    return FileResponse(
        io.BytesIO(excel_bytes(report)), as_attachment=True, filename=filename(report, slug), content_type=XLSX
    )
