"""The periodic report's Excel file, read back with openpyxl: the layout a clerk opens in Excel or
LibreOffice (header merged as on the official form, numbers as numbers, Vietnamese intact, frozen
header, A4 landscape) and every number equal to the report's rows. Built from hand-made figures: the
numbers of a real province are checked against `breakdown`/`figures` in test_report_figures.py."""

import io
import re
import shutil
import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from reports.excel import FIRST_DATA_ROW, FIRST_HEADER_ROW, NUMBERS_ROW, excel_bytes, filename
from reports.indicators import Figures
from reports.report import COLUMNS, DEPARTMENT, FIELD, HEADER_ROWS, LEAVES, TOTAL, Line, Report, header_cells

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def figures(**counts):
    return Figures(**counts)


def sum_figures(*many):
    out = Figures()
    for f in many:
        for key, value in f.counts().items():
            setattr(out, key, getattr(out, key) + value)
    return out


def sample_report():
    """Two departments, three fields, big numbers (thousands separators) and Vietnamese everywhere."""
    civil = figures(carried_over=3, received=10, received_counter=6, received_online=3, received_postal=1,
                    done_early=2, done_on_time=4, done_late=1, in_progress_within=3, in_progress_late=2, paused=1,
                    withdrawn=1)  # fmt: skip
    notary = figures(received=4, received_counter=4, done_on_time=4, stopped=2)
    business = figures(carried_over=1200, received=2345, received_counter=2000, received_online=300,
                       received_postal=45, done_early=1000, done_on_time=1200, done_late=100,
                       in_progress_late=7)  # fmt: skip
    ward = sum_figures(civil, notary)
    lines = [
        Line(DEPARTMENT, "I", "Ủy ban nhân dân Phường Hải Châu", ward),
        Line(FIELD, "1", "Hộ tịch", civil),
        Line(FIELD, "2", "Chứng thực", notary),
        Line(DEPARTMENT, "II", "Sở Tài chính", business),
        Line(FIELD, "1", "Thành lập và hoạt động doanh nghiệp (hộ kinh doanh)", business),
    ]
    total = Line(TOTAL, "", "Tổng cộng", sum_figures(ward, business))
    made = datetime(2026, 12, 3, 9, 30, tzinfo=HCM)
    return Report("Thành phố Đà Nẵng", date(2026, 11, 1), date(2026, 11, 30), made, lines, total)


@pytest.fixture
def book():
    report = sample_report()
    return report, load_workbook(io.BytesIO(excel_bytes(report)))


def test_the_header_is_the_official_multi_level_header_merged(book):
    _report, wb = book
    ws = wb.active
    merged = {str(r) for r in ws.merged_cells.ranges}
    for cell in header_cells():
        row, column = FIRST_HEADER_ROW + cell.row, 1 + cell.column
        assert ws.cell(row=row, column=column).value == cell.label
        if cell.rowspan > 1 or cell.colspan > 1:
            first = ws.cell(row=row, column=column).coordinate
            last = ws.cell(row=row + cell.rowspan - 1, column=column + cell.colspan - 1).coordinate
            assert f"{first}:{last}" in merged
    top = [ws.cell(row=FIRST_HEADER_ROW, column=c).value for c in range(1, len(LEAVES) + 1)]
    assert [v for v in top if v] == [
        "STT",
        "Đơn vị, lĩnh vực giải quyết",
        "Số hồ sơ phải giải quyết",
        "Số hồ sơ đã giải quyết",
        "Số hồ sơ đang giải quyết",
        "Chờ bổ sung",
        "Rút, dừng xử lý",
    ]
    # The groups and their sub-columns, as the brief and the form name them.
    assert "A7:A9" in merged and "B7:B9" in merged
    assert "C7:G7" in merged  # phải giải quyết: tổng, kỳ trước, tiếp nhận mới ×3
    assert "E8:G8" in merged  # tiếp nhận mới: trực tuyến, trực tiếp, bưu chính
    assert [ws.cell(row=9, column=c).value for c in (5, 6, 7)] == ["Trực tuyến", "Trực tiếp", "Bưu chính"]
    assert [ws.cell(row=8, column=c).value for c in range(8, 12)] == ["Tổng số", "Trước hạn", "Đúng hạn", "Trễ hạn"]
    assert [ws.cell(row=8, column=c).value for c in range(12, 15)] == ["Tổng số", "Trong hạn", "Quá hạn"]
    assert HEADER_ROWS == 3 and NUMBERS_ROW == FIRST_HEADER_ROW + 3
    assert [ws.cell(row=NUMBERS_ROW, column=c).value for c in range(1, 17)] == [f"({n})" for n in range(1, 17)]


def test_every_row_and_the_total_carry_the_reports_numbers_as_numbers(book):
    report, wb = book
    ws = wb.active
    for offset, line in enumerate(report.rows()):
        row = FIRST_DATA_ROW + offset
        values = [ws.cell(row=row, column=3 + i).value for i in range(len(COLUMNS))]
        assert values == line.values, line.label
        assert all(isinstance(v, int) for v in values)
        assert all(ws.cell(row=row, column=3 + i).number_format == "#,##0" for i in range(len(COLUMNS)))
        if line.level != TOTAL:
            assert ws.cell(row=row, column=1).value == line.number
            assert ws.cell(row=row, column=2).value == line.label
        assert ws.cell(row=row, column=2).font.b == (line.level in (DEPARTMENT, TOTAL))
    total_row = FIRST_DATA_ROW + len(report.lines)
    assert ws.cell(row=total_row, column=2).value == "TỔNG CỘNG"
    # The total is the sum of the departments' rows, column by column.
    departments = [line for line in report.lines if line.level == DEPARTMENT]
    assert report.total.values == [sum(col) for col in zip(*(d.values for d in departments), strict=True)]
    # Column meanings: (3) = (4) + new; (8) = (9)+(10)+(11); (12) = (13)+(14).
    for offset in range(len(report.rows())):
        v = [ws.cell(row=FIRST_DATA_ROW + offset, column=c).value for c in range(1, 17)]
        assert v[2] == v[3] + v[4] + v[5] + v[6]
        assert v[7] == v[8] + v[9] + v[10]
        assert v[11] == v[12] + v[13]
    # Nothing after the signature block; nothing numeric hides below the total.
    assert ws.cell(row=total_row + 1, column=3).value is None


def test_vietnamese_text_letterhead_period_and_signatures_are_intact(book):
    report, wb = book
    ws = wb.active
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for expected in (
        "UBND THÀNH PHỐ ĐÀ NẴNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        "Kỳ báo cáo: từ 01/11/2026 đến 30/11/2026",
        "Ngày lập báo cáo: 03/12/2026",
        "Thành lập và hoạt động doanh nghiệp (hộ kinh doanh)",
        "Ủy ban nhân dân Phường Hải Châu",
        "NGƯỜI LẬP BIỂU",
        "THỦ TRƯỞNG ĐƠN VỊ",
        "(Ký, ghi rõ họ tên)",
        "(Ký tên, đóng dấu)",
    ):
        assert expected in texts, expected
    # No mojibake: UTF-8 read as Latin-1 turns "ạ" into "áº¡", "Đ" into "Ä\x90".
    assert not [t for t in texts if "\ufffd" in t or re.search("[ÃÄÆá][\x80-\xbf]|áº|á»", t)]
    assert ws.title == "Báo cáo TTHC"


def test_layout_widths_frozen_header_print_setup_and_properties(book):
    report, wb = book
    ws = wb.active
    assert ws.freeze_panes == f"C{FIRST_DATA_ROW}"
    assert ws.column_dimensions["A"].width == 6
    assert ws.column_dimensions["B"].width == 42
    assert all(ws.column_dimensions[letter].width == 10.5 for letter in "CDEFGHIJKLMNOP")
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"${FIRST_HEADER_ROW}:${NUMBERS_ROW}"
    props = wb.properties
    assert props.title == "Tình hình, kết quả giải quyết thủ tục hành chính — Thành phố Đà Nẵng"
    assert props.subject == "Kỳ báo cáo: từ 01/11/2026 đến 30/11/2026"
    assert props.creator == "Một Cửa — Thành phố Đà Nẵng"
    assert props.language == "vi-VN"
    assert props.created == datetime(2026, 12, 3, 9, 30)
    assert filename(report, "danang") == "bao-cao-tthc_danang_20261101-20261130.xlsx"


def test_an_empty_report_still_has_its_header_total_and_signatures():
    made = datetime(2026, 12, 3, 9, 30, tzinfo=HCM)
    report = Report(
        "Tỉnh Cà Mau", date(2026, 1, 1), date(2026, 12, 31), made, [], Line(TOTAL, "", "Tổng cộng", Figures())
    )
    ws = load_workbook(io.BytesIO(excel_bytes(report))).active
    assert ws.cell(row=FIRST_DATA_ROW, column=2).value == "TỔNG CỘNG"
    assert [ws.cell(row=FIRST_DATA_ROW, column=c).value for c in range(3, 17)] == [0] * 14
    assert ws.cell(row=FIRST_DATA_ROW + 2, column=1).value == "NGƯỜI LẬP BIỂU"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_opens_the_file_and_prints_it_with_the_vietnamese_text(tmp_path):
    """LibreOffice reads the file and prints it (PDF); its text layer has the Vietnamese words."""
    path = tmp_path / "bao-cao.xlsx"
    report = sample_report()
    path.write_bytes(excel_bytes(report))
    profile = tmp_path / "profile"  # a private LibreOffice profile: no clash with another instance
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.exists() and pdf.stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        assert "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text
        assert "Ủy ban nhân dân Phường Hải Châu" in text
        to_handle = report.total.values[0]  # the total to handle, in thousands: printed with a separator
        assert to_handle > 1000 and (f"{to_handle:,}" in text or f"{to_handle:,}".replace(",", ".") in text)
