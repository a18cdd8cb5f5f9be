"""Specification of form 06, the register of dossiers (Sổ theo dõi hồ sơ), per reception point and period.

Dossiers are made through `dossiers.services` at chosen moments (`services.backdated`), in Đà Nẵng's
schema; the register is read as an officer gets it from the admin: the printable page and the Excel
file (read back with openpyxl).
"""

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from conftest import otp_login
from dossiers import registers, services
from dossiers.models import Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.models import Officer
from offices.tests.factories import DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
VN = ZoneInfo("Asia/Ho_Chi_Minh")
URL = "/admin/dossiers/dossier/register/"


def at(day, month, year, hour=9, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


def received_at(moment, officer, procedure=None, **applicant):
    with services.backdated(moment):
        return receive(officer, procedure, **applicant)


def registered_online(moment, procedure=None, name="Phạm Thị Dung", point=None):
    """An online registration choosing `point` (none: the province's centre). Only the counter of the
    chosen point may accept or refuse it (issue 15)."""
    procedure = procedure or ProcedureFactory()
    with services.backdated(moment):
        return services.register_online(
            procedure=procedure,
            applicant=services.Applicant(name=name),
            components=all_components(procedure),
            reception_point=point,
        )


def codes(user, point, start, end):
    period = registers.Period(start, end)
    return [entry.code for entry in registers.entries(user, point, period, registers.Totals())]


def client_for(officer_or_user):
    user = getattr(officer_or_user, "user", officer_or_user)
    client = Client()
    otp_login(client, user)
    return client


def query(point, start, end, output="html"):
    return {"point": point.pk, "start": start, "end": end, "format": output}


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def second_desk(in_danang):
    return DepartmentFactory(code="BPMC-HC", name="Bộ phận một cửa quận Hải Châu", is_reception=True)


@pytest.fixture
def second_reception(second_desk):
    return OfficerFactory(role="reception", department=second_desk, user__username="motcua.haichau")


# --- membership: point and period ---------------------------------------------------------------


def test_period_is_whole_days_in_vietnam_time_last_minute_in_next_midnight_out(reception, reception_desk):
    desk, user = reception_desk, reception.user
    before = received_at(at(30, 11, 2026, 23, 59, 59), reception)  # 16:59 UTC on 30/11
    first = received_at(at(1, 12, 2026, 0, 0), reception)  # 17:00 UTC on 30/11: a UTC day would drop it
    morning = received_at(at(1, 12, 2026, 6, 30), reception)  # 23:30 UTC on 30/11
    last = received_at(at(31, 12, 2026, 23, 59), reception)
    after = received_at(at(1, 1, 2027, 0, 0), reception)  # 17:00 UTC on 31/12: a UTC day would keep it

    december = codes(user, desk, date(2026, 12, 1), date(2026, 12, 31))
    assert december == [first.code, morning.code, last.code]  # in order of intake
    assert codes(user, desk, date(2026, 11, 1), date(2026, 11, 30)) == [before.code]
    assert codes(user, desk, date(2027, 1, 1), date(2027, 1, 1)) == [after.code]
    assert codes(user, desk, date(2026, 12, 31), date(2026, 12, 31)) == [last.code]  # one-day period


def test_each_point_lists_what_it_took_in_received_accepted_or_refused_and_nothing_else(
    reception, reception_desk, second_reception, second_desk, specialist, ward
):
    day = at(2, 12, 2026, 9)
    at_counter = received_at(day, reception, ProcedureFactory(department=ward))
    services.hand_over(at_counter, reception, to_department=ward, to_officer=specialist)  # moves on, stays listed
    elsewhere = received_at(day + timedelta(minutes=5), second_reception)
    # Registered before the period, accepted in it.
    accepted = registered_online(day - timedelta(days=3), point=reception_desk)
    with services.backdated(day + timedelta(hours=1)):
        services.accept(accepted, reception)
    refused_there = registered_online(day, point=second_desk)
    with services.backdated(day + timedelta(hours=2)):
        services.refuse(refused_there, second_reception, reason="Hồ sơ không thuộc thẩm quyền giải quyết")
    waiting = registered_online(day, point=second_desk)  # registered online, not yet taken in by any point

    start, end = date(2026, 12, 1), date(2026, 12, 31)
    assert codes(reception.user, reception_desk, start, end) == [at_counter.code, accepted.code]
    assert codes(reception.user, second_desk, start, end) == [elsewhere.code, refused_there.code]
    everything = codes(reception.user, reception_desk, start, end) + codes(reception.user, second_desk, start, end)
    assert waiting.code not in everything
    # Accepted in December although registered in November: the intake decides, not the registration.
    assert codes(reception.user, reception_desk, date(2026, 11, 1), date(2026, 11, 30)) == []

    rows = {
        e.code: e
        for e in registers.entries(reception.user, second_desk, registers.Period(start, end), registers.Totals())
    }
    refused_row = rows[refused_there.code]
    assert refused_row.status == Status.REFUSED and refused_row.received_at == day + timedelta(hours=2)
    assert "Hồ sơ không thuộc thẩm quyền giải quyết" in refused_row.note
    assert refused_row.appointment is None


def test_totals_count_every_row_and_split_them_by_outcome(reception, reception_desk):
    day = at(3, 12, 2026, 10)
    received_at(day, reception)
    received_at(day + timedelta(minutes=1), reception)
    refused = registered_online(day, point=reception_desk)
    with services.backdated(day + timedelta(minutes=2)):
        services.refuse(refused, reception, reason="Thiếu tờ khai")
    totals = registers.Totals()
    rows = list(registers.entries(reception.user, reception_desk, registers.Period(day.date(), day.date()), totals))
    assert [r.number for r in rows] == [1, 2, 3]
    assert (totals.count, totals.refused, totals.open, totals.returned) == (3, 1, 2, 0)
    assert "không được tiếp nhận: 1" in totals.summary()


# --- the period the officer types -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("01/01/2025", "02/01/2026", "tối đa 366 ngày; khoảng đã chọn dài 367 ngày"),
        ("31/12/2026", "01/12/2026", "“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”"),
        ("2026-12-01", "31/12/2026", "Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy"),
        ("31/02/2026", "31/12/2026", "Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy"),
        ("", "31/12/2026", "Hãy nhập “Từ ngày”"),
        ("01/01/1900", "02/01/1900", "Ngày phải trong khoảng 01/01/2000 – 31/12/2099"),
    ],
)
def test_a_bad_period_is_refused_with_a_vietnamese_message(reception, reception_desk, start, end, message):
    response = client_for(reception).get(URL, query(reception_desk, start, end, "xlsx"), **HOST)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


def test_the_longest_allowed_period_is_a_leap_year(reception, reception_desk):
    form = registers.RegisterForm({"point": reception_desk.pk, "start": "01/01/2024", "end": "31/12/2024"})
    assert form.is_valid(), form.errors
    assert (form.period().end - form.period().start).days + 1 == registers.MAX_DAYS


def test_an_unknown_point_or_output_is_refused(reception, reception_desk, ward):
    client = client_for(reception)
    not_a_point = client.get(URL, query(ward, "01/12/2026", "31/12/2026"), **HOST)  # a department, not a counter
    assert not_a_point.status_code == 400
    assert "Bộ phận tiếp nhận đã chọn không có trong danh sách" in not_a_point.content.decode()
    pdf = client.get(URL, query(reception_desk, "01/12/2026", "31/12/2026", "pdf"), **HOST)
    assert pdf.status_code == 400 and "tải về tệp Excel" in pdf.content.decode()


# --- Excel ----------------------------------------------------------------------------------------


def test_excel_reads_back_with_headers_rows_vietnamese_text_real_dates_and_totals(in_danang, reception, reception_desk):
    procedure = ProcedureFactory(name="Đăng ký khai sinh có yếu tố nước ngoài")
    first = received_at(
        at(1, 12, 2026, 8, 5), reception, procedure, name="Nguyễn Thị Ánh Tuyết", address="Phường Hải Châu"
    )
    second = received_at(at(15, 12, 2026, 14, 40), reception, name="Trần Văn Đức")
    refused = registered_online(at(20, 12, 2026, 9), name="Lê Thị Hường")
    with services.backdated(at(21, 12, 2026, 9)):
        services.refuse(refused, reception, reason="Không đúng thẩm quyền")

    response = client_for(reception).get(URL, query(reception_desk, "01/12/2026", "31/12/2026", "xlsx"), **HOST)
    assert response.status_code == 200
    assert response["Content-Type"] == registers.XLSX
    assert 'filename="so-theo-doi-ho-so_TTHCC_20261201-20261231.xlsx"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None  # a sound OOXML package

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "Sổ theo dõi hồ sơ"
    assert ws["A1"].value == "UBND THÀNH PHỐ ĐÀ NẴNG" and ws["H1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert ws["A2"].value == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    assert ws["A4"].value == "SỔ THEO DÕI HỒ SƠ" and ws["A5"].value == "Từ ngày 01/12/2026 đến ngày 31/12/2026"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:F1", "H1:N1", "A4:N4", "A5:N5"} <= merged

    header = [c.value for c in ws[registers.HEADER_ROW]]
    assert header == [str(label) for label, _width in registers.COLUMNS]
    assert header[:3] == ["STT", "Mã hồ sơ", "Tên thủ tục hành chính"] and header[-2:] == ["Ký nhận", "Ghi chú"]
    assert ws.column_dimensions["C"].width == 42 and ws.column_dimensions["B"].width == 27
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.print_title_rows == "$6:$6" and ws.freeze_panes == "A7"  # headers on every page, and frozen

    rows = list(ws.iter_rows(min_row=registers.HEADER_ROW + 1, values_only=False))
    data_rows, totals_row = rows[:-1], rows[-1]
    assert len(data_rows) == 3
    assert [r[1].value for r in data_rows] == [first.code, second.code, refused.code]
    assert [r[0].value for r in data_rows] == [1, 2, 3]

    row = data_rows[0]
    assert row[2].value == "Đăng ký khai sinh có yếu tố nước ngoài"
    assert row[3].value == "Nguyễn Thị Ánh Tuyết"  # diacritics intact
    assert "Phường Hải Châu" in row[4].value
    received = row[6]
    assert received.is_date and received.value == datetime(2026, 12, 1, 8, 5)  # local wall-clock time
    assert received.number_format == "dd/mm/yyyy hh:mm"
    appointment = row[7]
    assert appointment.is_date and appointment.number_format == "dd/mm/yyyy"
    assert appointment.value.date() == first.appointment_date
    assert row[10].value == "Được tiếp nhận"
    refused_row = data_rows[2]
    assert refused_row[10].value == "Không được tiếp nhận" and refused_row[7].value is None
    assert "Không đúng thẩm quyền" in refused_row[13].value

    assert totals_row[0].value == "Tổng cộng"
    assert totals_row[2].value == 3 and isinstance(totals_row[2].value, int)
    assert "hồ sơ" in totals_row[2].number_format
    assert "không được tiếp nhận: 1" in totals_row[3].value


def test_an_empty_period_still_gives_a_valid_workbook_with_a_zero_total(reception, reception_desk):
    response = client_for(reception).get(URL, query(reception_desk, "01/01/2026", "31/01/2026", "xlsx"), **HOST)
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(min_row=registers.HEADER_ROW + 1, values_only=True))
    assert len(rows) == 1 and rows[0][0] == "Tổng cộng" and rows[0][2] == 0


# --- the printable page -----------------------------------------------------------------------------


def test_printable_register_is_a4_landscape_with_every_row_and_the_total(reception, reception_desk):
    first = received_at(at(4, 12, 2026, 9), reception, name="Võ Thị Ngọc Ánh")
    second = received_at(at(5, 12, 2026, 9), reception)
    response = client_for(reception).get(URL, query(reception_desk, "01/12/2026", "31/12/2026"), **HOST)
    assert response.status_code == 200 and response.streaming
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    assert "@page { size: A4 landscape; margin: 10mm 10mm; }" in html
    assert "Sổ theo dõi hồ sơ".upper() in html.upper() and "Mẫu số 06" in html
    assert "Trung tâm Phục vụ hành chính công" in html and "Thành phố Đà Nẵng" in html
    assert "Từ ngày 01/12/2026 đến ngày 31/12/2026" in html
    assert html.index(f'data-code="{first.code}"') < html.index(f'data-code="{second.code}"')
    assert html.count("data-code=") == 2
    assert "Võ Thị Ngọc Ánh" in html and "04/12/2026" in html
    assert 'data-total="2"' in html
    for column in ("STT", "Mã hồ sơ", "Người nộp hồ sơ", "Nhận hồ sơ", "Hẹn trả kết quả", "Trả kết quả", "Ký nhận"):
        assert f"<th>{column}" in html


def test_a_register_read_and_streamed_in_small_pieces_has_every_row_once_in_order(
    reception, reception_desk, monkeypatch
):
    monkeypatch.setattr(registers, "CHUNK", 2)
    monkeypatch.setattr(registers, "HTML_ROWS", 3)
    made = [received_at(at(7, 12, 2026, 8, minute), reception).code for minute in range(7)]
    client = client_for(reception)
    html = body(client.get(URL, query(reception_desk, "07/12/2026", "07/12/2026"), **HOST))
    assert re.findall(r'data-code="([^"]+)"', html) == made
    assert re.findall(r'<td class="c">(\d+)</td>', html) == [str(n) for n in range(1, 8)]
    assert 'data-total="7"' in html and html.rstrip().endswith("</html>")
    response = client.get(URL, query(reception_desk, "07/12/2026", "07/12/2026", "xlsx"), **HOST)
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(min_row=registers.HEADER_ROW + 1, values_only=True))
    assert [r[1] for r in rows[:-1]] == made and rows[-1][2] == 7


def test_register_page_is_offered_from_the_dossier_list(reception, reception_desk):
    client = client_for(reception)
    page = client.get(reverse("admin:dossiers_dossier_changelist"), follow=True, **HOST).content.decode()
    assert f'href="{URL}"' in page and "Sổ theo dõi hồ sơ" in page
    form = client.get(URL, **HOST)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="start"' in html and 'name="end"' in html and "dd/mm/yyyy" in html
    assert 'value="xlsx"' in html
    assert f'<option value="{reception_desk.pk}" selected>' in html  # the officer's own point


# --- who may see what -------------------------------------------------------------------------------


def test_an_officer_without_the_view_permission_is_refused(reception, reception_desk, ward):
    received_at(at(2, 12, 2026, 9), reception)
    user = User.objects.create_user("khong.quyen", password="Mat-khau-dai-1", is_staff=True)
    Officer.objects.create(user=user, department=reception_desk)  # a counter officer with no role at all
    client = Client()
    otp_login(client, user, password="Mat-khau-dai-1")
    assert client.get(URL, **HOST).status_code == 403
    assert client.get(URL, query(reception_desk, "01/12/2026", "31/12/2026", "xlsx"), **HOST).status_code == 403
    assert client.get(URL, query(reception_desk, "01/12/2026", "31/12/2026"), **HOST).status_code == 403


def test_a_department_officer_sees_only_the_dossiers_their_department_holds(
    reception, reception_desk, specialist, ward
):
    day = at(2, 12, 2026, 9)
    theirs = received_at(day, reception, ProcedureFactory(department=ward), name="Hồ Thị Thu")
    services.hand_over(theirs, reception, to_department=ward, to_officer=specialist)
    at_the_counter = received_at(day + timedelta(minutes=1), reception, name="Đặng Văn Khoa")

    everyone = codes(reception.user, reception_desk, date(2026, 12, 1), date(2026, 12, 31))
    assert everyone == [theirs.code, at_the_counter.code]
    assert codes(specialist.user, reception_desk, date(2026, 12, 1), date(2026, 12, 31)) == [theirs.code]

    client = client_for(specialist)
    html = body(client.get(URL, query(reception_desk, "01/12/2026", "31/12/2026"), **HOST))
    assert theirs.code in html and "Hồ Thị Thu" in html
    assert at_the_counter.code not in html and "Đặng Văn Khoa" not in html
    response = client.get(URL, query(reception_desk, "01/12/2026", "31/12/2026", "xlsx"), **HOST)
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert theirs.code in values and at_the_counter.code not in values and "Đặng Văn Khoa" not in values
