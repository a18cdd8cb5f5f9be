"""In a real browser: the ward's specialist reviews the files a citizen sent online (issue 13.2).

Two photos and a PDF arrived for the three items of a supplement request. On the dossier's page the
specialist sees each item next to its files, turns a sideways photo (the view only: the stored file is
unchanged), looks at it full size, accepts two items and refuses the third's photo with a reason: the
citizen gets one message naming what is still missing. The citizen sends a new photo; the specialist
accepts it and the supplement is received: the clock runs again and the citizen is told the date.

Fixtures (the throwaway province "trinhduyet", its live `runserver`) come from dossiers/tests/test_browser.py.
Screenshots land in test-output/browser/review-NN-….png.
"""

import hashlib
from itertools import count

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from dossiers.models import Status
from dossiers.tests import test_browser as counter_walk
from dossiers.tests.test_browser import SCREENSHOTS
from dossiers.tests.test_browser_day import chromium, in_province, log_in, new_page

from .images import PDF, jpeg, png

trial_province = counter_walk.trial_province
catalogue = counter_walk.catalogue
live_url = counter_walk.live_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OTHER_ITEMS = ("Ảnh 4x6", "Sơ đồ vị trí")
REASON = "Ảnh chụp bị lóa, không đọc được số giấy chứng sinh"


@pytest.fixture(scope="module")
def sent_online(trial_province, catalogue, live_url, django_db_blocker):
    """A dossier the ward's specialist holds, a supplement asked for three items, one file each (committed)."""
    from dossiers import services as dossier_services
    from dossiers.models import Procedure
    from offices.models import Department, Officer
    from supplements import services
    from supplements.models import Source

    with django_db_blocker.unblock(), tenant_context(trial_province):
        counter = Officer.objects.get(user__username="motcua")
        specialist = Officer.objects.get(user__username="chuyenvien")
        procedure = Procedure.objects.get(code=counter_walk.PROCEDURE_CODE)
        dossier = dossier_services.receive_dossier(
            officer=counter,
            procedure=procedure,
            applicant=dossier_services.Applicant("Trần Thị Gửi Ảnh", id_number="048090004444", phone="0905444555"),
            components=[
                dossier_services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()
            ],
        )
        dossier = dossier_services.hand_over(
            dossier, counter, to_department=Department.objects.get(pk=catalogue["ward"]), to_officer=specialist
        )
        names = (catalogue["component_name"], *OTHER_ITEMS)
        dossier = dossier_services.request_supplement(
            dossier, specialist, items=[dossier_services.MissingItem(n, "Chưa nộp") for n in names]
        )
        request = services.open_request(dossier)
        items = {i.name: i for i in request.items.all()}
        sideways = jpeg(size=(320, 180), color="navy")  # a landscape photo of a portrait paper
        files = [
            services.attach_file(
                dossier=dossier,
                data=sideways,
                original_name="giay-chung-sinh.jpg",
                source=Source.CHAT,
                item=items[catalogue["component_name"]],
            ),
            services.attach_file(
                dossier=dossier,
                data=png(size=(120, 160)),
                original_name="anh-4x6.png",
                source=Source.LINK,
                item=items["Ảnh 4x6"],
            ),
            services.attach_file(
                dossier=dossier, data=PDF, original_name="so-do.pdf", source=Source.LINK, item=items["Sơ đồ vị trí"]
            ),
        ]
        facts = {
            "pk": dossier.pk,
            "code": dossier.code,
            "items": {name: item.pk for name, item in items.items()},
            "files": {f.original_name: f.pk for f in files},
            "photo_sha": hashlib.sha256(files[0].file.read()).hexdigest(),
        }
    connection.set_schema_to_public()
    yield facts
    with django_db_blocker.unblock(), tenant_context(trial_province):
        from supplements.models import SupplementFile

        for file in SupplementFile.objects.filter(dossier_id=facts["pk"]):
            file.file.delete(save=False)  # the stored files, under MEDIA_ROOT (the schema goes with the province)
    connection.set_schema_to_public()


def test_the_specialist_reviews_the_files_sent_online(live_url, trial_province, catalogue, sent_online):
    from playwright.sync_api import expect

    numbers = count(1)

    def shot(page, name):
        page.screenshot(path=SCREENSHOTS / f"review-{next(numbers):02d}-{name}.png", full_page=True)

    files, items = sent_online["files"], sent_online["items"]
    photo, portrait, plan = files["giay-chung-sinh.jpg"], files["anh-4x6.png"], files["so-do.pdf"]
    with chromium() as browser:
        page = new_page(browser)
        log_in(page, live_url, trial_province, "chuyenvien")
        page.goto(f"{live_url}/admin/dossiers/dossier/{sent_online['pk']}/change/")
        panel = page.locator("#supplement-review-panel")
        expect(panel).to_be_visible()
        # Each missing item next to the file that arrived for it.
        for name, file_pk in ((catalogue["component_name"], photo), ("Ảnh 4x6", portrait), ("Sơ đồ vị trí", plan)):
            expect(panel.locator(f'tr[data-item="{items[name]}"] [data-file="{file_pk}"]')).to_be_visible()
        thumbnail = panel.locator(f'[data-file="{photo}"] img[data-thumbnail]')
        expect(thumbnail).to_be_visible()
        assert thumbnail.evaluate("img => img.complete && img.naturalWidth") > 0  # served to the officer
        shot(page, "files-arrived")

        # The photo is sideways: turn it for reading (the view only).
        panel.locator(f'[data-rotate="{photo}"]').click()
        assert "rotate(90deg)" in thumbnail.evaluate("img => img.style.transform")
        shot(page, "photo-turned")
        # Full size, in the viewer, turned the same way; turned once more there.
        thumbnail.click()
        viewer = page.locator("#supplement-viewer")
        expect(viewer).to_be_visible()
        big = viewer.locator("img[data-viewer-image]")
        assert big.evaluate("img => img.style.transform") == "rotate(90deg)"
        viewer.locator("[data-viewer-rotate]").click()
        assert big.evaluate("img => img.style.transform") == "rotate(180deg)"
        shot(page, "full-size")
        viewer.locator("[data-viewer-close]").click()
        expect(viewer).to_be_hidden()

        # Accept the birth certificate and the site plan; refuse the portrait photo with a reason.
        panel.locator(f'[data-accept-item="{items[catalogue["component_name"]]}"]').click()
        panel.locator(f'[data-accept-item="{items["Sơ đồ vị trí"]}"]').click()
        panel.locator(f'[name="reason_{portrait}"]').fill(REASON)
        expect(panel.locator(f'[name="decision_{portrait}"][value="refuse"]')).to_be_checked()
        shot(page, "decisions")
        panel.locator("[data-review-submit]").click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text("báo một lần")
        expect(panel.locator(f'[data-file="{portrait}"]')).to_contain_text(REASON)
        expect(panel.locator(f'tr[data-item="{items["Sơ đồ vị trí"]}"] .item-state')).to_contain_text("Đã chấp nhận")
        shot(page, "citizen-told")

    def refusal_and_resend():
        from notifications.models import Kind, Notification
        from supplements import services
        from supplements.models import SupplementFile

        messages = [
            n.text for n in Notification.objects.filter(dossier_id=sent_online["pk"], kind=Kind.SUPPLEMENT_REFUSED)
        ]
        photo_now = SupplementFile.objects.get(pk=photo)
        stored = hashlib.sha256(photo_now.file.read()).hexdigest()
        dossier = photo_now.dossier
        request = services.open_request(dossier)
        again = services.attach_file(
            dossier=dossier,
            data=png(size=(120, 160), mode="RGB"),
            original_name="anh-4x6-moi.png",
            source="chat",
            item=request.items.get(name="Ảnh 4x6"),
        )
        return messages, stored, again.pk

    messages, stored, again = in_province(trial_province, refusal_and_resend)
    assert len(messages) == 1, messages  # told once
    assert f"Ảnh 4x6 (không chấp nhận: {REASON})" in messages[0]
    assert catalogue["component_name"] not in messages[0]
    assert stored == sent_online["photo_sha"]  # turning the view did not touch the evidence

    with chromium() as browser:
        page = new_page(browser)
        log_in(page, live_url, trial_province, "chuyenvien")
        page.goto(f"{live_url}/admin/dossiers/dossier/{sent_online['pk']}/change/")
        panel = page.locator("#supplement-review-panel")
        expect(panel.locator(f'[data-file="{again}"]')).to_be_visible()
        shot(page, "sent-again")
        panel.locator(f'[data-accept-item="{items["Ảnh 4x6"]}"]').click()
        panel.locator("[data-review-submit]").click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text("nhận hồ sơ bổ sung")
        expect(page.locator(".field-status .readonly")).to_have_text("Đang xử lý")
        shot(page, "supplement-received")

    def outcome():
        from dossiers.models import Dossier
        from notifications.models import Notification

        dossier = Dossier.objects.get(pk=sent_online["pk"])
        kinds = list(Notification.objects.filter(dossier=dossier).values_list("kind", flat=True))
        return dossier.status, dossier.paused_at, dossier.events.order_by("-created_at", "-id").first().action, kinds

    status, paused_at, last_action, kinds = in_province(trial_province, outcome)
    assert (status, paused_at, last_action) == (Status.IN_PROGRESS, None, "receive_supplement")
    assert kinds.count("supplement_refused") == 1 and kinds.count("new_appointment") == 1
