"""Specification of the forms officers print (01 receipt, 02 supplement request, 04 apology, 05 control slip).

Every dossier is made through `dossiers.services`, in the Đà Nẵng province schema; forms are rendered
with `printing.render_form` and read back as the HTML an officer would print.
"""

import base64
import io
import re

import pytest
import zxingcpp
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from dossiers import printing, services, workflow
from dossiers.calendars import current_calendar
from dossiers.links import lookup_url
from dossiers.tests.factories import ProcedureFactory, receive
from offices.tests.factories import DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db

QR_SRC = re.compile(r'<img src="(data:image/png;base64,[A-Za-z0-9+/=]+)"')


@pytest.fixture
def in_danang(danang):
    with tenant_context(danang):
        yield danang


@pytest.fixture
def reception(in_danang):
    department = DepartmentFactory(code="TTHCC", name="Trung tâm Phục vụ hành chính công", is_reception=True)
    return OfficerFactory(
        role="reception", department=department, user__last_name="Trần Thị", user__first_name="Bích", phone="0905111222"
    )


@pytest.fixture
def dossier(reception):
    return receive(reception, email="an.nguyen@example.vn")


def page(dossier, form_key, province):
    request = RequestFactory().get(f"/ho-so/{dossier.pk}/in/{form_key}/", HTTP_HOST="danang.localhost")
    request.tenant = province
    response = printing.render_form(request, dossier, form_key)
    assert response.status_code == 200
    return response, response.content.decode()


def local(value, fmt):
    return timezone.localtime(value).strftime(fmt)


def decode_qr(data_uri):
    png = base64.b64decode(data_uri.split(",", 1)[1])
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [r.text for r in results]


def specialist_holding(dossier, reception):
    """Hand the dossier to a specialist of the procedure's department, who may then postpone it."""
    specialist = OfficerFactory(
        role="specialist", department=dossier.procedure.department, user__last_name="Lê Minh", user__first_name="Châu"
    )
    dossier = services.hand_over(
        dossier, reception, to_department=specialist.department, to_officer=specialist, citizen_note="Chuyển thẩm định"
    )
    return dossier, specialist


def later_working_day(dossier, days=2):
    return current_calendar().add_working_days(dossier.appointment_date, days)


# --- lookup link and QR code ----------------------------------------------------------------


def test_lookup_url_is_on_the_province_domain_and_carries_the_secret_token(in_danang, dossier):
    url = lookup_url(dossier)
    assert "danang.localhost" in url
    assert url.endswith(f"/tra-cuu/{dossier.lookup_token}/")
    assert len(dossier.lookup_token) >= 22  # 128 random bits, URL-safe base64


def test_qr_data_uri_is_a_png_that_decodes_to_the_text():
    uri = printing.qr_data_uri("https://motcua.danang.gov.vn/tra-cuu/abc/")
    assert uri.startswith("data:image/png;base64,")
    assert decode_qr(uri) == ["https://motcua.danang.gov.vn/tra-cuu/abc/"]


# --- 01 receipt ---------------------------------------------------------------------------------


def test_receipt_lists_dossier_applicant_components_dates_and_a_decodable_lookup_qr(in_danang, reception, dossier):
    response, html = page(dossier, "receipt", in_danang)

    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả".upper() in html.upper()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    assert "Thành phố Đà Nẵng" in html and "Trung tâm Phục vụ hành chính công" in html
    assert dossier.code in html
    for value in ("Nguyễn Văn An", "048090001234", "12 Lê Lợi", dossier.applicant_phone, "an.nguyen@example.vn"):
        assert value in html
    assert dossier.procedure.name in html
    for component in dossier.components.all():
        assert component.name in html
        assert str(component.get_kind_display()) in html
    assert "Bản sao" in html  # the optional power of attorney was handed in as a copy
    assert "3 ngày làm việc" in html
    assert local(dossier.accepted_at, "%H:%M") in html and local(dossier.accepted_at, "%d/%m/%Y") in html
    assert dossier.appointment_date.strftime("%d/%m/%Y") in html
    assert "Trần Thị Bích" in html  # the receiving officer signs
    assert "Người nộp hồ sơ".upper() in html.upper() and "Người tiếp nhận hồ sơ".upper() in html.upper()

    assert "Quét mã để tra cứu tình trạng hồ sơ" in html
    sources = QR_SRC.findall(html)
    assert len(sources) == 1
    assert decode_qr(sources[0]) == [lookup_url(dossier)]
    assert dossier.lookup_token in lookup_url(dossier)

    # A standalone, printable A4 page with personal data: not the portal layout, never cached.
    assert "@page { size: A4; margin: 15mm 15mm; }" in html
    assert "window.print()" in html and "@media print" in html
    assert "cổng một cửa điện tử" not in html
    assert "no-store" in response["Cache-Control"]


def test_receipt_shows_fees_with_dot_separators_and_same_day_processing(in_danang, reception):
    procedure = ProcedureFactory(processing_days=0, fee=1500000, fee_note="nộp khi nhận kết quả")
    dossier = receive(reception, procedure)
    _response, html = page(dossier, "receipt", in_danang)
    assert "1.500.000 đồng" in html and "nộp khi nhận kết quả" in html
    assert "trong ngày" in html


def test_receipt_does_not_exist_before_the_dossier_is_accepted(in_danang):
    procedure = ProcedureFactory()
    dossier = services.register_online(
        procedure=procedure,
        applicant=services.Applicant(name="Phạm Thị Dung"),
        components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
    )
    with pytest.raises(Http404):
        printing.form_context(dossier, "receipt")


def test_unknown_form_is_not_found(in_danang, dossier):
    with pytest.raises(Http404):
        printing.form_context(dossier, "register")  # 06 is a register, not a form of one dossier
    with pytest.raises(Http404):
        page(dossier, "khong-co", in_danang)


# --- 02 supplement request ----------------------------------------------------------------------


def test_supplement_form_needs_a_supplement_request(in_danang, dossier):
    with pytest.raises(Http404):
        printing.form_context(dossier, "supplement")


def test_supplement_form_lists_every_missing_item_with_its_reason_and_the_contact_officer(
    in_danang, reception, dossier
):
    items = [
        services.MissingItem("Giấy chứng nhận kết hôn của cha mẹ", "Chưa nộp"),
        services.MissingItem("Tờ khai", "Thiếu chữ ký của người khai"),
        services.MissingItem("Sổ hộ khẩu", "Bản sao chưa được chứng thực"),
    ]
    dossier = services.request_supplement(dossier, reception, items=items, reason="Hồ sơ chưa hợp lệ")

    _response, html = page(dossier, "supplement", in_danang)
    assert "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ".upper() in html.upper()
    assert dossier.code in html and "Nguyễn Văn An" in html and dossier.procedure.name in html
    for item in items:
        assert item.name in html and item.reason in html
    assert "Hồ sơ chưa hợp lệ" in html
    assert "Trần Thị Bích" in html and reception.title in html and reception.phone in html


def test_supplement_form_shows_the_latest_request(in_danang, reception, dossier):
    dossier = services.request_supplement(
        dossier, reception, items=[services.MissingItem("Giấy tờ lần một", "Thiếu")], reason="Lần một"
    )
    dossier = services.receive_supplement(dossier, reception)
    dossier = services.request_supplement(
        dossier, reception, items=[services.MissingItem("Giấy tờ lần hai", "Mờ, không đọc được")], reason="Lần hai"
    )
    _response, html = page(dossier, "supplement", in_danang)
    assert "Giấy tờ lần hai" in html and "Mờ, không đọc được" in html and "Lần hai" in html
    assert "Giấy tờ lần một" not in html


# --- 04 apology ---------------------------------------------------------------------------------


def test_apology_needs_a_postponement(in_danang, dossier):
    with pytest.raises(Http404):
        printing.form_context(dossier, "apology")


def test_apology_shows_the_original_date_the_new_date_and_the_reason(in_danang, reception, dossier):
    dossier, specialist = specialist_holding(dossier, reception)
    original = dossier.original_appointment_date
    new_date = later_working_day(dossier)
    dossier = services.postpone(dossier, specialist, new_date=new_date, reason="Chờ xác minh của Công an phường")

    context = printing.form_context(dossier, "apology")
    assert (context["old_date"], context["new_date"]) == (original, new_date)

    _response, html = page(dossier, "apology", in_danang)
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả".upper() in html.upper()
    old_text, new_text = original.strftime("%d/%m/%Y"), new_date.strftime("%d/%m/%Y")
    assert old_text in html and new_text in html
    assert html.index(old_text) < html.index(new_text)
    assert "Chờ xác minh của Công an phường" in html
    assert "Nguyễn Văn An" in html and "Lê Minh Châu" in html


def test_apology_uses_the_last_postponement(in_danang, reception, dossier):
    dossier, specialist = specialist_holding(dossier, reception)
    first_date = later_working_day(dossier)
    dossier = services.postpone(dossier, specialist, new_date=first_date, reason="Lý do lần đầu")
    second_date = later_working_day(dossier, 3)
    dossier = services.postpone(dossier, specialist, new_date=second_date, reason="Lý do lần sau")

    context = printing.form_context(dossier, "apology")
    assert (context["old_date"], context["new_date"], context["reason"]) == (first_date, second_date, "Lý do lần sau")
    _response, html = page(dossier, "apology", in_danang)
    assert first_date.strftime("%d/%m/%Y") in html and second_date.strftime("%d/%m/%Y") in html
    assert "Lý do lần sau" in html and "Lý do lần đầu" not in html


# --- 05 control slip ----------------------------------------------------------------------------


def test_control_slip_lists_every_event_in_order_and_never_internal_notes(in_danang, reception, dossier):
    dossier, specialist = specialist_holding(dossier, reception)
    dossier = services.request_supplement(
        dossier, specialist, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")], reason=""
    )
    dossier = services.receive_supplement(
        dossier,
        specialist,
        citizen_note="Công dân đã nộp tờ khai có chữ ký",
        internal_note="BÍ MẬT: nghi giả mạo chữ ký, báo lãnh đạo",
    )

    _response, html = page(dossier, "control", in_danang)
    assert "Phiếu kiểm soát quá trình giải quyết hồ sơ".upper() in html.upper()
    assert dossier.code in html

    events = list(dossier.events.order_by("created_at", "id"))
    assert [e.action for e in events] == ["receive", "hand_over", "request_supplement", "receive_supplement"]
    positions = [html.index(f">{workflow.label_of(e.action)}") for e in events]
    assert positions == sorted(positions)

    hand_over = events[1]
    row = html[positions[1] : positions[2]]
    assert "Trung tâm Phục vụ hành chính công / Trần Thị Bích" in row  # from
    assert f"{specialist.department} / Lê Minh Châu" in row  # to
    assert str(hand_over.get_step_grade_display()) in row and hand_over.step_grade
    assert "Chuyển thẩm định" in row
    assert local(hand_over.created_at, "%H:%M") in row and local(hand_over.created_at, "%d/%m/%Y") in row

    assert "Cần bổ sung: Tờ khai (Thiếu chữ ký)" in html
    assert "Công dân đã nộp tờ khai có chữ ký" in html
    assert "BÍ MẬT" not in html and "giả mạo" not in html
