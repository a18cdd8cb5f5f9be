"""Form 03 (Phiếu từ chối tiếp nhận giải quyết hồ sơ) and the paper the forms are printed on: A4, and
the dossier code under the lookup QR code on one line (forms 01-04).

Dossiers are made through `dossiers.services` in Đà Nẵng's schema; forms are rendered with
`printing.render_form` (and through the admin where the link is offered) and read back as HTML.
"""

import base64
import glob
import io
import re

import pytest
import zxingcpp
from django.contrib.auth.models import User
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFont

from conftest import otp_login
from dossiers import printing, services
from dossiers.calendars import current_calendar
from dossiers.links import lookup_url
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.models import Officer
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
QR_SRC = re.compile(r'<img src="(data:image/png;base64,[A-Za-z0-9+/=]+)"')
LONGEST_CODE = "000.00.14.H20-200703-0002"
REASON = "Thủ tục không thuộc thẩm quyền của Trung tâm.\nĐề nghị nộp tại UBND phường Hải Châu."


@pytest.fixture
def counter(reception_desk):
    return OfficerFactory(
        role="reception", department=reception_desk, user__last_name="Trần Thị", user__first_name="Bích"
    )


@pytest.fixture
def refused(counter):
    procedure = ProcedureFactory(name="Cấp giấy phép xây dựng nhà ở riêng lẻ")
    dossier = services.register_online(
        procedure=procedure,
        applicant=services.Applicant(
            name="Nguyễn Thị Ánh Tuyết", id_number="048190004321", phone="0905765432", address="45 Trần Phú"
        ),
        components=all_components(procedure),
    )
    return services.refuse(dossier, counter, reason=REASON, internal_note="NỘI BỘ: hồ sơ giả mạo?")


def render(dossier, form_key, province):
    request = RequestFactory().get("/", HTTP_HOST="danang.localhost")
    request.tenant = province
    response = printing.render_form(request, dossier, form_key)
    assert response.status_code == 200
    return response.content.decode()


def decode_qr(html):
    sources = QR_SRC.findall(html)
    assert len(sources) == 1
    png = base64.b64decode(sources[0].split(",", 1)[1])
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def every_form(dossier, counter, province):
    """A dossier for which forms 01, 02, 04 and 05 all apply; returns {form: html}."""
    specialist = OfficerFactory(role="specialist", department=dossier.procedure.department)
    dossier = services.hand_over(dossier, counter, to_department=specialist.department, to_officer=specialist)
    later = current_calendar().add_working_days(dossier.appointment_date, 2)
    dossier = services.postpone(dossier, specialist, new_date=later, reason="Chờ xác minh")
    dossier = services.request_supplement(dossier, specialist, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")])
    return dossier, {key: render(dossier, key, province) for key in ("receipt", "supplement", "apology", "control")}


# --- 03 refusal at intake --------------------------------------------------------------------------


def test_refusal_form_gives_the_reason_the_applicant_the_code_and_a_lookup_qr(in_danang, counter, refused):
    html = render(refused, "refusal", in_danang)
    assert "Mẫu số 03" in html
    assert "Phiếu từ chối tiếp nhận giải quyết hồ sơ".upper() in html.upper()
    assert refused.code in html
    for value in ("Nguyễn Thị Ánh Tuyết", "048190004321", "45 Trần Phú", "0905765432"):
        assert value in html
    assert "Cấp giấy phép xây dựng nhà ở riêng lẻ" in html and refused.procedure.code in html
    # The reason, every line of it, as the citizen was told; never the internal note.
    assert "Thủ tục không thuộc thẩm quyền của Trung tâm.<br>Đề nghị nộp tại UBND phường Hải Châu." in html
    assert "NỘI BỘ" not in html and "giả mạo" not in html
    # Who refused, where, when.
    assert "Trần Thị Bích" in html and "Trung tâm Phục vụ hành chính công" in html
    event = refused.events.get(action="refuse")
    issued = timezone.localtime(event.created_at)
    assert f"ngày {issued:%d} tháng {issued:%m} năm {issued:%Y}" in html
    assert "Người tiếp nhận hồ sơ".upper() in html.upper()
    assert decode_qr(html) == [lookup_url(refused)]
    assert f'<div class="qr-code">{refused.code}</div>' in html


def test_refusal_form_applies_only_to_a_dossier_refused_at_intake(in_danang, counter, refused):
    accepted = receive(counter)
    assert printing.form_applies(refused, "refusal") and not printing.form_applies(accepted, "refusal")
    with pytest.raises(Http404):
        printing.form_context(accepted, "refusal")
    with pytest.raises(Http404):
        printing.form_context(refused, "receipt")  # never accepted: no receipt
    assert not printing.form_applies(refused, "receipt")


def test_the_admin_offers_and_serves_form_03_for_a_refused_dossier_only(in_danang, counter, refused):
    client = Client()
    otp_login(client, counter.user)
    accepted = receive(counter)
    change = client.get(reverse("admin:dossiers_dossier_change", args=[refused.pk]), **HOST).content.decode()
    url = reverse("admin:dossiers_dossier_print", args=[refused.pk, "refusal"])
    assert f'href="{url}"' in change and 'data-print="refusal"' in change
    assert "03 Phiếu từ chối tiếp nhận giải quyết hồ sơ" in change
    response = client.get(url, **HOST)
    assert response.status_code == 200 and REASON.splitlines()[0] in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    other = client.get(reverse("admin:dossiers_dossier_change", args=[accepted.pk]), **HOST).content.decode()
    assert 'data-print="refusal"' not in other
    assert client.get(reverse("admin:dossiers_dossier_print", args=[accepted.pk, "refusal"]), **HOST).status_code == 404


def test_printing_needs_the_permission_to_view_dossiers(in_danang, counter, reception_desk, refused):
    user = User.objects.create_user("khong.quyen.in", password="Mat-khau-dai-1", is_staff=True)
    Officer.objects.create(user=user, department=reception_desk)  # same counter, no role
    client = Client()
    otp_login(client, user, password="Mat-khau-dai-1")
    response = client.get(reverse("admin:dossiers_dossier_print", args=[refused.pk, "refusal"]), **HOST)
    assert response.status_code == 403


# --- A4, and the code under the QR on one line -------------------------------------------------------


def _css_rule(html, selector):
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", html)
    assert match, f"no CSS rule for {selector}"
    return match.group(1)


def test_every_form_declares_a4_paper_with_margins(in_danang, counter, refused):
    _dossier, pages = every_form(receive(counter), counter, in_danang)
    pages["refusal"] = render(refused, "refusal", in_danang)
    assert set(pages) == set(printing.FORMS)
    for key, html in pages.items():
        assert "@page { size: A4; margin: 15mm 15mm; }" in html, key
        assert "@media print" in html and "window.print()" in html, key


def test_forms_01_to_04_print_the_lookup_qr_with_the_code_on_one_line_under_it(in_danang, counter, refused):
    dossier, pages = every_form(receive(counter), counter, in_danang)
    pages["refusal"] = render(refused, "refusal", in_danang)
    for key in printing.QR_FORMS:
        html = pages[key]
        code = refused.code if key == "refusal" else dossier.code
        assert html.count('<div class="qr-code">') == 1, key
        assert f'<div class="qr-code">{code}</div>' in html, key
        assert decode_qr(html) == [lookup_url(refused if key == "refusal" else dossier)], key
        assert html.index("<img src=") < html.index('<div class="qr-code">'), key  # under the QR
    assert 'class="qr-code"' not in pages["control"]
    rule = _css_rule(pages["receipt"], ".qr-code")
    assert "white-space: nowrap" in rule


def _stack(rule):
    family = re.search(r"font-family:\s*([^;]+);", rule).group(1)
    return [name.strip().strip('"') for name in family.split(",")]


def _regular_faces():
    """Installed upright, regular-weight fonts by the names CSS may call them."""
    faces = {}
    for path in glob.glob("/usr/share/fonts/**/*.[ot]tf", recursive=True):
        try:
            font = ImageFont.truetype(path, 1000)
        except OSError:
            continue
        family, style = font.getname()
        if any(word in style for word in ("Bold", "Italic", "Oblique", "Light", "Black")):
            continue
        faces.setdefault(family, font)
        if "Condensed" in style:
            faces[f"{family} Condensed"] = font
    return faces


def test_the_longest_dossier_code_fits_under_the_qr_in_every_installed_font_of_the_stack(in_danang, counter):
    html = render(receive(counter), "receipt", in_danang)
    rule = _css_rule(html, ".qr-code")
    size_pt = float(re.search(r"font-size:\s*([\d.]+)pt", rule).group(1))
    assert 6 <= size_pt, "too small to read"
    assert "font-weight: normal" in rule and "letter-spacing: 0" in rule
    qr_mm = float(re.search(r"width:\s*([\d.]+)mm", _css_rule(html, ".qr-box img")).group(1))
    qr_pt = qr_mm * 72 / 25.4

    faces = _regular_faces()
    measured = {}
    for name in _stack(rule):
        if name in faces:
            measured[name] = faces[name].getlength(LONGEST_CODE) / 1000 * size_pt
    if not measured:
        pytest.skip("none of the fonts the QR code's caption names is installed here")
    too_wide = {name: round(width * 25.4 / 72, 1) for name, width in measured.items() if width > qr_pt}
    assert not too_wide, f"the code is wider than the {qr_mm} mm QR in: {too_wide} (mm)"
