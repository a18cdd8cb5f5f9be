"""End to end, in a real browser: one dossier's whole day, by three officers, followed by the citizen.

The reception officer (motcua) takes the dossier in at the counter and prints form 01, then hands it
over to the specialist of the ward (chuyenvien), who asks the citizen for a supplement and prints
form 02; the citizen brings the papers to the counter, which receives them; the specialist passes the
dossier to the ward's leader (lanhdao), who signs the result; the counter returns it. Each officer
logs in once, with their own account, through the real login page and its second factor, and reaches
the dossier from their own worklist, not by URL. After every step the citizen opens the QR link of
form 01 on a phone: what it shows is checked (status, who holds the dossier, the appointment date,
the missing papers while waiting, the date after them) and every officer's internal note is checked
to be absent from it.

Fixtures (the throwaway province "trinhduyet", its live `runserver`) come from test_browser.py.
Screenshots of every step land in test-output/browser/, named day-NN-….png.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import count

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from dossiers.deadlines import local_date
from dossiers.tests import test_browser as counter_walk
from dossiers.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PROCEDURE_CODE, SCREENSHOTS, WAIT_MS

# test_browser.py's module fixtures, by name: the throwaway province, the ids picked on screen, the live server.
trial_province = counter_walk.trial_province
catalogue = counter_walk.catalogue
live_url = counter_walk.live_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")

APPLICANT = {"name": "Đặng Thị Cả Ngày", "id_number": "048090003333", "phone": "0905777888"}
# The citizen's note at the counter: the phone page shows citizen notes, so the internal ones' absence means something.
CITIZEN_NOTE = "Mang theo CCCD bản chính khi đến nhận kết quả."
# One internal note per step, each with a marker that must never reach the citizen's phone.
INTERNAL = {
    "receive": "NB-TIEPNHAN-71: khách quen, gọi chị Hoa 0905 999 001 nếu thiếu giấy",
    "hand_over": "NB-CHUYEN-72: ưu tiên, anh Dũng xem trước thứ Sáu",
    "request_supplement": "NB-BOSUNG-73: tờ khai ký sai chỗ, đã hướng dẫn qua điện thoại",
    "receive_supplement": "NB-NHANBS-74: công dân nộp tại quầy số 3",
    "to_leader": "NB-TRINHKY-75: trình lãnh đạo ký, đã kiểm tra đủ",
    "sign": "NB-KY-76: ký thay Chủ tịch",
    "return": "NB-TRA-77: công dân xuất trình CCCD bản chính",
}
MISSING_OTHER = ("Bản sao sổ hộ khẩu", "bản chụp mờ, không đọc được")
MISSING_REASON = "Tờ khai chưa ký tên người yêu cầu"
RESULT = "Giấy xác nhận tình trạng hôn nhân số 15/2026"


# --- reading the province's database while Playwright's loop runs in this thread ------------


def in_province(province, read):
    """`read()` inside the province, in a worker thread (Django refuses ORM calls next to Playwright's loop)."""

    def run():
        from django.db import connection as thread_connection

        try:
            with tenant_context(province):
                return read()
        finally:
            thread_connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def dossier_facts(code):
    """What the walk checks the pages against, straight from the database."""
    from dossiers.calendars import current_calendar, cutoff_time
    from dossiers.deadlines import appointment_date, receipt_start_date
    from dossiers.models import Dossier

    dossier = Dossier.objects.select_related("procedure").get(code=code)
    calendar, cutoff = current_calendar(), cutoff_time()
    return {
        "dossier": dossier,
        "supplements": list(dossier.supplement_requests.order_by("requested_at").values("requested_at", "received_at")),
        "calendar": calendar,
        # The clock's start day: the receipt day, or the next working day after the cut-off or on a day off.
        "clock_start": receipt_start_date(dossier.accepted_at, calendar, cutoff),
        # The appointment the rule gives for the moment the counter received it (cut-off, working days).
        "rule_appointment": appointment_date(dossier.accepted_at, dossier.procedure.processing_days, calendar, cutoff),
    }


@pytest.fixture(scope="module")
def cast(trial_province, catalogue, django_db_blocker):
    """The three officers of the day and the two departments, as the pages name them."""
    from dossiers.models import Procedure
    from offices.models import Department, Officer

    with django_db_blocker.unblock(), tenant_context(trial_province):
        officers = {
            o.user.username: {"id": o.pk, "name": o.full_name, "title": o.title, "department": str(o.department)}
            for o in Officer.objects.select_related("user", "department")
        }
        counter = Department.objects.get(code="TTHCC")
        ward = Department.objects.get(pk=catalogue["ward"])
        procedure = Procedure.objects.get(code=PROCEDURE_CODE)
        components = [(c.pk, c.name, c.required, c.count) for c in procedure.components.order_by("position")]
    connection.set_schema_to_public()
    return {
        "officers": officers,
        "counter": {"id": counter.pk, "name": str(counter)},
        "ward": {"id": ward.pk, "name": str(ward)},
        "components": components,
    }


# --- the browser ------------------------------------------------------------------------------


@contextmanager
def chromium():
    """Debian's Chromium; each person of the day gets a context of their own (their own cookies)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, **options):
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(locale="vi-VN", **options)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


class Shots:
    """Full-page screenshots, numbered in the order of the day; `taken` lists their file names."""

    def __init__(self):
        self.numbers = count(1)
        self.taken = []

    def __call__(self, page, name):
        path = SCREENSHOTS / f"day-{next(self.numbers):02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        self.taken.append(path.name)


def label(text):
    """A form label as Django renders it: the text, perhaps followed by the label suffix ":"."""
    return re.compile(rf"^{re.escape(text)}:?$")


def log_in(page, base_url, province, username):
    """The real login: user name, password and the code the officer's authenticator shows now."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/admin/login/")
    page.locator("[name=username]").fill(username)
    page.locator("[name=password]").fill(settings.DEMO_PASSWORD)
    page.locator("[name=otp_token]").fill(authenticator_code(province, username))
    page.locator("#login-form [type=submit]").click()
    expect(page).to_have_url(f"{base_url}/admin/")


def open_worklist(page, title, expected_count):
    """From the admin's home page to the dossier list, then to the worklist `title`; checks its count."""
    from playwright.sync_api import expect

    page.locator("#content-main").get_by_role("link", name="Hồ sơ", exact=True).click()
    link = page.locator("#changelist-filter").get_by_role("link", name=re.compile(rf"^{re.escape(title)} \(\d+\)$"))
    link.click()
    selected = page.locator("#changelist-filter li.selected").filter(has_text=title)  # other filters: "all"
    expect(selected).to_have_text(f"{title} ({expected_count})")
    expect(page.locator("h1")).to_contain_text(title)


def open_from_worklist(page, code):
    from playwright.sync_api import expect

    page.locator("#result_list").get_by_role("link", name=code, exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/dossiers/dossier/\d+/change/(\?.*)?$"))
    expect(page.locator(".field-code .readonly")).to_have_text(code)


def succeeded(page, code):
    from playwright.sync_api import expect

    expect(page.locator("ul.messagelist li.success")).to_contain_text(code)


# --- the citizen's phone ------------------------------------------------------------------------


def citizen_sees(
    shot,
    phone,
    url,
    code,
    name,
    *,
    status,
    appointment,
    timeline,
    holder=None,
    officer=None,
    missing=(),
    grade=None,
    shows=(),
):
    """Open the QR link on the phone and check what the citizen reads; nothing internal, nothing personal.

    `holder`: the department shown as holding the open dossier (None: no holder shown, e.g. returned);
    `officer`: (name, title) of its officer, or None when no officer holds it; `grade`: the assessment
    (early / on time / late) once signed."""
    from playwright.sync_api import expect

    phone.goto(url)
    expect(phone.locator("h1")).to_have_text(code)
    expect(phone.locator(".status")).to_have_text(status)
    facts = dict(
        phone.locator("dl dt").evaluate_all(
            "dts => dts.map(dt => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()])"
        )
    )
    # The appointment date, dd/mm/yyyy (an original date only once it moved).
    shown_date = facts.get("Ngày hẹn trả", "")
    assert shown_date.split(" ")[0] == appointment and DATE.match(appointment), (name, facts)
    # Who holds it while it is open: the department, and its officer (name and title) when one is assigned.
    assert facts.get("Đang xử lý tại") == holder, (name, facts)
    if officer is None:
        assert "Cán bộ" not in facts, (name, facts)
    else:
        assert facts.get("Cán bộ") == "\n".join(officer), (name, facts)
    # The assessment once signed, under its own name: "kết quả giải quyết" is the result itself (issue 11.4).
    assert facts.get("Kết quả đánh giá") == grade and "Kết quả giải quyết" not in facts, (name, facts)
    # The papers asked for, with their reasons, only while the dossier waits for them.
    items = phone.locator("ul.missing li")
    if missing:
        expect(items).to_have_text([f"{item}: {why}" for item, why in missing])
    else:
        expect(items).to_have_count(0)
        expect(phone.get_by_role("heading", name="Giấy tờ cần bổ sung")).to_have_count(0)
    # The timeline, one entry per step the citizen may see, in order.
    expect(phone.locator("ol.timeline li strong")).to_have_text(list(timeline))
    for text in shows:
        expect(phone.locator("main")).to_contain_text(text)
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name}: the phone page scrolls sideways: {widths}"
    html = phone.content()
    for note in INTERNAL.values():
        marker = note.split(":")[0]
        assert marker not in html and note not in html, f"{name}: internal note on the citizen's page: {marker}"
    for secret in (APPLICANT["name"], APPLICANT["id_number"], APPLICANT["phone"], "0905 777 888"):
        assert secret not in html, f"{name}: personal data on the citizen's page: {secret}"
    shot(phone, f"phone-{name}")


# --- the specification ------------------------------------------------------------------------


def test_the_whole_day_of_a_dossier_by_counter_specialist_and_leader_followed_on_the_phone(
    live_url, catalogue, trial_province, cast
):
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("day-*.png"):
        old.unlink()
    officers = cast["officers"]
    reception, specialist, leader = officers["motcua"], officers["chuyenvien"], officers["lanhdao"]
    # The procedure's papers: the declaration (required) and, last, an authorisation (only if one is given).
    (first_id, first_name, first_required, _n), *_others, (_proxy_id, proxy_name, proxy_required, _m) = cast[
        "components"
    ]
    assert first_required and not proxy_required
    counter_dept, ward = cast["counter"]["name"], cast["ward"]["name"]
    steps = []  # what the citizen's timeline shows, growing step by step
    shot = Shots()

    with chromium() as browser:
        counter = new_page(browser)
        desk = new_page(browser)  # the ward specialist's
        office = new_page(browser)  # the ward leader's
        phone = new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)

        # Each officer logs in once, with their own account and second factor.
        log_in(counter, live_url, trial_province, "motcua")
        log_in(desk, live_url, trial_province, "chuyenvien")
        log_in(office, live_url, trial_province, "lanhdao")

        # --- 1. The counter receives the dossier: the procedure, the applicant, the papers as a checklist.
        counter.locator("#content-main").get_by_role("link", name="Hồ sơ", exact=True).click()
        counter.get_by_role("link", name="Tiếp nhận hồ sơ").first.click()
        expect(counter.locator("h1")).to_contain_text("Tiếp nhận hồ sơ")
        counter.get_by_label("Thủ tục").select_option(str(catalogue["procedure"]))
        counter.get_by_role("button", name="Chọn thủ tục").click()
        intake = counter.locator("#intake-form")
        intake.get_by_label("Họ tên người nộp").fill(APPLICANT["name"])
        intake.get_by_label("Số CCCD/giấy tờ tùy thân").fill(APPLICANT["id_number"])
        intake.get_by_label("Điện thoại").fill("0905 777 888")
        # The required paper is ticked to start with, with its usual number; the authorisation is added, 2 copies.
        expect(intake.get_by_label(label(first_name))).to_be_checked()
        expect(intake.get_by_label(label(f"Số bản: {first_name}"))).to_have_value("1")
        expect(intake.get_by_label(label(proxy_name))).not_to_be_checked()
        intake.get_by_label(label(proxy_name)).check()
        intake.get_by_label(label(f"Số bản: {proxy_name}")).fill("2")
        intake.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["receive"])
        intake.get_by_label("Ghi chú gửi công dân (hiển thị công khai)").fill(CITIZEN_NOTE)
        shot(counter, "counter-intake-form")
        intake.get_by_role("button", name="Tiếp nhận hồ sơ").click()

        success = counter.locator("ul.messagelist li.success")
        expect(success).to_contain_text("hẹn trả ngày")
        match = re.search(r"hồ sơ (\S+), hẹn trả ngày (\d{2}/\d{2}/\d{4})", success.inner_text())
        assert match, success.inner_text()
        code, appointment = match.groups()
        expect(counter.locator(".field-status .readonly")).to_have_text("Được tiếp nhận")
        shot(counter, "counter-received")
        facts = in_province(trial_province, lambda: dossier_facts(code))
        assert f"{facts['rule_appointment']:%d/%m/%Y}" == appointment  # the date the rule gives, as announced
        dossier_page = counter.url
        steps.append("Tiếp nhận hồ sơ")

        # --- 2. Form 01: the code, the date, the papers as ticked, and the link behind the QR code.
        with counter.context.expect_page() as new_tab:
            counter.locator("a[data-print=receipt]").click()
        receipt = new_tab.value
        receipt.wait_for_load_state()
        body = receipt.locator("body")
        expect(body).to_contain_text(code)
        expect(body).to_contain_text(f"Thời gian trả kết quả giải quyết hồ sơ: ngày {appointment}")
        expect(receipt.locator("table.grid tbody tr")).to_have_count(2)
        expect(receipt.locator("table.grid tbody tr").nth(1)).to_contain_text(proxy_name)
        expect(receipt.locator("table.grid tbody tr").nth(1).locator("td").last).to_have_text("2")
        qr = receipt.locator(f"img[alt='Mã QR tra cứu hồ sơ {code}']")
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.complete && img.naturalWidth") > 0
        link = re.search(r"https?://\S+/tra-cuu/[A-Za-z0-9_-]+/", body.inner_text())
        assert link, "form 01 prints no lookup link"
        url = link.group(0)
        assert url.startswith(f"{live_url}/tra-cuu/")
        assert INTERNAL["receive"] not in receipt.content()
        shot(receipt, "form-01-receipt")
        receipt.close()

        # The citizen, at home: received, held by the counter's officer, the date of form 01, the counter's note.
        citizen_sees(
            shot,
            phone,
            url,
            code,
            "received",
            status="Được tiếp nhận",
            appointment=appointment,
            holder=counter_dept,
            officer=(reception["name"], reception["title"]),
            timeline=steps,
            shows=(CITIZEN_NOTE,),
        )

        # --- 3. The counter hands it over to the ward's specialist; the officer list follows the department.
        counter.goto(dossier_page)
        counter.locator('a[data-action="hand_over"]').click()
        counter.get_by_label("Chuyển đến phòng ban").select_option(str(cast["ward"]["id"]))
        officer_list = counter.get_by_label("Cán bộ xử lý")
        expect(officer_list.locator(f"option[value='{specialist['id']}']")).to_be_enabled()
        expect(officer_list.locator(f"option[value='{leader['id']}']")).to_be_enabled()
        expect(officer_list.locator(f"option[value='{reception['id']}']")).to_be_disabled()
        expect(officer_list.locator(f"option[value='{officers['chuyenvien.ca']['id']}']")).to_be_disabled()
        officer_list.select_option(str(specialist["id"]))
        counter.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["hand_over"])
        shot(counter, "counter-hand-over-form")
        counter.get_by_role("button", name="Chuyển xử lý").click()
        succeeded(counter, code)
        expect(counter.locator(".field-status .readonly")).to_have_text("Đang xử lý")
        shot(counter, "counter-handed-over")
        steps.append("Chuyển xử lý")
        citizen_sees(
            shot,
            phone,
            url,
            code,
            "handed-over",
            status="Đang xử lý",
            appointment=appointment,
            holder=ward,
            officer=(specialist["name"], specialist["title"]),
            timeline=steps,
        )

        # --- 4. The specialist finds it in "mine" and asks, once and in writing, for what is missing.
        desk.goto(f"{live_url}/admin/")
        open_worklist(desk, "Hồ sơ tôi đang giữ", 1)
        shot(desk, "specialist-worklist-mine")
        open_from_worklist(desk, code)
        desk.locator('a[data-action="request_supplement"]').click()
        desk.get_by_label(label(first_name)).check()
        desk.locator(f"[name=reason_{first_id}]").fill(MISSING_REASON)
        desk.get_by_label("Giấy tờ khác cần bổ sung").fill(": ".join(MISSING_OTHER))
        desk.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["request_supplement"])
        shot(desk, "specialist-supplement-form")
        desk.get_by_role("button", name="Yêu cầu bổ sung").click()
        succeeded(desk, code)
        expect(desk.locator(".field-status .readonly")).to_have_text("Yêu cầu bổ sung giấy tờ")
        shot(desk, "specialist-supplement-requested")
        steps.append("Yêu cầu bổ sung")
        missing = [(first_name, MISSING_REASON), MISSING_OTHER]
        waiting = {
            "status": "Yêu cầu bổ sung giấy tờ",
            "appointment": appointment,
            "holder": ward,
            "officer": (specialist["name"], specialist["title"]),
            "missing": missing,
        }
        citizen_sees(shot, phone, url, code, "supplement-requested", timeline=steps, **waiting)

        # --- 5. Form 02: every paper with its reason, the date before the pause, whom to ask.
        with desk.context.expect_page() as new_tab:
            desk.locator("a[data-print=supplement]").click()
        form02 = new_tab.value
        form02.wait_for_load_state()
        body = form02.locator("body")
        expect(body).to_contain_text(code)
        rows = form02.locator("table.grid tbody tr")
        expect(rows).to_have_count(2)
        for row, (item, why) in zip(range(2), missing, strict=True):
            expect(rows.nth(row)).to_contain_text(item)
            expect(rows.nth(row)).to_contain_text(why)
        expect(body).to_contain_text(f"Ngày hẹn trả kết quả trước khi tạm dừng: {appointment}")
        expect(body).to_contain_text("ngày hẹn mới sẽ được thông báo khi nhận đủ hồ sơ bổ sung")
        expect(body).to_contain_text(specialist["name"])
        qr = form02.locator(f"img[alt='Mã QR tra cứu hồ sơ {code}']")
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.complete && img.naturalWidth") > 0
        assert INTERNAL["request_supplement"] not in form02.content()
        shot(form02, "form-02-supplement")
        form02.close()
        citizen_sees(shot, phone, url, code, "form-02-printed", timeline=steps, **waiting)

        # --- 6. The citizen brings the papers to the counter: its "waiting for a supplement" list, a tick per paper.
        counter.goto(f"{live_url}/admin/")
        open_worklist(counter, "Chờ bổ sung", 1)
        open_from_worklist(counter, code)
        counter.locator('a[data-action="receive_supplement"]').click()
        checklist = counter.locator("#supplement-checklist")
        expect(checklist.locator("tbody tr")).to_have_count(2)
        for item, why in missing:
            expect(checklist).to_contain_text(item)
            expect(checklist).to_contain_text(why)
            expect(counter.get_by_label(label(item))).not_to_be_checked()
        # Only one of the two papers: nothing is received, and the message names the other one.
        counter.get_by_label(label(first_name)).check()
        counter.get_by_role("button", name="Nhận hồ sơ bổ sung").click()
        refusal = counter.locator("ul.errorlist.nonfield")
        expect(refusal).to_contain_text(MISSING_OTHER[0])
        expect(refusal).not_to_contain_text(first_name)
        shot(counter, "counter-supplement-incomplete")
        citizen_sees(shot, phone, url, code, "supplement-incomplete", timeline=steps, **waiting)
        # Both papers: received.
        counter.get_by_label(label(first_name)).check()
        counter.get_by_label(label(MISSING_OTHER[0])).check()
        counter.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["receive_supplement"])
        shot(counter, "counter-receive-supplement-form")
        counter.get_by_role("button", name="Nhận hồ sơ bổ sung").click()
        succeeded(counter, code)
        expect(counter.locator(".field-status .readonly")).to_have_text("Đang xử lý")
        shot(counter, "counter-supplement-received")
        steps.append("Nhận hồ sơ bổ sung")

        # The new date: the old one moved by exactly the working days the clock would have counted while it was
        # stopped (Decree 118): those that began during the pause, after the clock's start day. Usually none (the
        # walk takes minutes); one when the walk crosses a working day's midnight after that day.
        facts = in_province(trial_province, lambda: dossier_facts(code))
        (pause,) = facts["supplements"]
        calendar = facts["calendar"]
        since = max(local_date(pause["requested_at"]), facts["clock_start"])
        stopped = calendar.working_days_between(since, local_date(pause["received_at"]))
        old = facts["dossier"].original_appointment_date
        new = calendar.add_working_days(old, stopped) if stopped else old
        new_appointment = f"{new:%d/%m/%Y}"
        assert f"{facts['dossier'].appointment_date:%d/%m/%Y}" == new_appointment
        told = (
            f"ngày hẹn trả không thay đổi: {new_appointment}"
            if new == old
            else f"ngày hẹn trả mới: {new_appointment} (trước đây: {appointment})"
        )
        working = {
            "status": "Đang xử lý",
            "appointment": new_appointment,
            "holder": ward,
            "officer": (specialist["name"], specialist["title"]),
        }
        citizen_sees(shot, phone, url, code, "supplement-received", timeline=steps, shows=(told,), **working)

        # --- 7. The specialist passes it to the ward's leader for signature.
        desk.goto(f"{live_url}/admin/")
        open_worklist(desk, "Hồ sơ tôi đang giữ", 1)
        open_from_worklist(desk, code)
        desk.locator('a[data-action="hand_over"]').click()
        desk.get_by_label("Chuyển đến phòng ban").select_option(str(cast["ward"]["id"]))
        desk.get_by_label("Cán bộ xử lý").select_option(str(leader["id"]))
        desk.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["to_leader"])
        shot(desk, "specialist-to-leader-form")
        desk.get_by_role("button", name="Chuyển xử lý").click()
        succeeded(desk, code)
        steps.append("Chuyển xử lý")
        working["officer"] = (leader["name"], leader["title"])
        citizen_sees(shot, phone, url, code, "with-leader", timeline=steps, **working)
        desk.goto(f"{live_url}/admin/")
        open_worklist(desk, "Hồ sơ tôi đang giữ", 0)  # no longer the specialist's

        # --- 8. The leader signs it from "waiting for signature".
        office.goto(f"{live_url}/admin/")
        open_worklist(office, "Chờ ký duyệt", 1)
        shot(office, "leader-worklist-to-sign")
        open_from_worklist(office, code)
        office.locator('a[data-action="mark_result_ready"]').click()
        office.get_by_label("Kết quả giải quyết").fill(RESULT)
        office.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["sign"])
        shot(office, "leader-sign-form")
        office.get_by_role("button", name="Duyệt kết quả").click()
        succeeded(office, code)
        expect(office.locator(".field-status .readonly")).to_have_text("Đã xử lý xong")
        shot(office, "leader-signed")
        office.goto(f"{live_url}/admin/")
        open_worklist(office, "Chờ ký duyệt", 0)  # signed: nothing left to sign
        steps.append("Duyệt kết quả")
        citizen_sees(
            shot,
            phone,
            url,
            code,
            "signed",
            status="Đã xử lý xong",
            appointment=new_appointment,
            holder=ward,  # the department keeps the signed result; no officer holds it
            officer=None,
            grade="Trước hạn",  # signed days before the appointment
            timeline=steps,
            shows=("Mời ông/bà đến bộ phận một cửa để nhận kết quả",),
        )

        # --- 9. The counter returns it from "waiting to return the result".
        counter.goto(f"{live_url}/admin/")
        open_worklist(counter, "Chờ trả kết quả", 1)
        shot(counter, "counter-worklist-result-ready")
        open_from_worklist(counter, code)
        counter.locator('a[data-action="return_result"]').click()
        counter.get_by_label("Ghi chú nội bộ (chỉ cán bộ thấy)").fill(INTERNAL["return"])
        counter.get_by_role("button", name="Trả kết quả").click()
        succeeded(counter, code)
        expect(counter.locator(".field-status .readonly")).to_have_text("Đã trả kết quả")
        # The officers' timeline keeps every internal note (the citizen's page leaves them out, not the record).
        timeline = counter.locator("#events-group")
        for note in INTERNAL.values():
            expect(timeline).to_contain_text(note)
        shot(counter, "counter-returned")
        steps.append("Trả kết quả")
        citizen_sees(
            shot,
            phone,
            url,
            code,
            "returned",
            status="Đã trả kết quả",
            appointment=new_appointment,
            holder=None,  # closed: no holder shown
            officer=None,
            grade="Trước hạn",
            timeline=steps,
            shows=("Đã trả lúc",),
        )
        # Nothing is left in the counter's "waiting to return" list.
        counter.goto(f"{live_url}/admin/")
        open_worklist(counter, "Chờ trả kết quả", 0)

        # --- 10. End of the day: the counter's register (form 06) lists the dossier with its dates.
        facts = in_province(trial_province, lambda: dossier_facts(code))
        returned = facts["dossier"].returned_at
        received_on = f"{local_date(facts['dossier'].accepted_at):%d/%m/%Y}"
        counter.get_by_role("link", name="Sổ theo dõi hồ sơ").click()
        register_form = counter.locator("#register-form")
        expect(register_form.get_by_label("Bộ phận tiếp nhận")).to_have_value(str(cast["counter"]["id"]))
        register_form.get_by_label("Từ ngày").fill(received_on)
        register_form.get_by_role("button", name="Xem và in sổ").click()
        row = counter.locator(f"tr[data-code='{code}']")
        expect(row).to_have_count(1)
        cells = row.locator("td")
        expect(cells.nth(5)).to_contain_text(received_on)
        expect(cells.nth(6)).to_have_text(new_appointment)
        expect(cells.nth(8)).to_have_text(f"{local_date(returned):%d/%m/%Y}")
        expect(cells.nth(9)).to_have_text("Đã trả kết quả")
        expect(cells.nth(10)).to_have_text("Trước hạn")
        assert not any(note in counter.content() for note in INTERNAL.values())
        # A date and the "STT" heading never break inside ("08/12/20 | 26" was unreadable): each text line
        # of those cells is one visual line.
        count_lines = """(el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            return [el.innerText.split("\\n").filter((t) => t.trim()).length, tops.size];
        }"""
        cells = [*row.locator("td.d").all(), counter.locator("table.register th").first]
        assert len(cells) == 5
        for cell in cells:
            text_lines, visual_lines = cell.evaluate(count_lines)
            assert visual_lines == text_lines, (cell.inner_text(), visual_lines)
        shot(counter, "form-06-register")

    # Who did what, in the province's database.
    from dossiers.models import Dossier, Status

    with tenant_context(trial_province):
        dossier = Dossier.objects.get(code=code)
        assert dossier.status == Status.RETURNED
        events = list(dossier.events.order_by("created_at", "id").select_related("actor__user"))
        assert [(e.action, e.actor.user.username) for e in events] == [
            ("receive", "motcua"),
            ("hand_over", "motcua"),
            ("request_supplement", "chuyenvien"),
            ("receive_supplement", "motcua"),
            ("hand_over", "chuyenvien"),
            ("mark_result_ready", "lanhdao"),
            ("return_result", "motcua"),
        ]
        assert [e.internal_note for e in events] == list(INTERNAL.values())
        assert dossier.result == RESULT
    connection.set_schema_to_public()
    assert all((SCREENSHOTS / name).is_file() for name in shot.taken), shot.taken
    print("screenshots:", *shot.taken, sep="\n  ")
