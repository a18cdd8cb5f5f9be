"""The officers' admin through the Django test client: pages render, actions work, roles hold."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from conftest import otp_login
from dossiers.models import Dossier, DossierEvent, Status
from dossiers.tests.factories import ProcedureFactory, receive

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def client_for(officer):
    client = Client()
    otp_login(client, officer.user)  # password + TOTP code, inside Đà Nẵng's schema (in_danang)
    return client


def change_url(dossier):
    return reverse("admin:dossiers_dossier_change", args=[dossier.pk])


def action_url(dossier, action):
    return reverse("admin:dossiers_dossier_action", args=[dossier.pk, action])


def test_reception_officer_receives_a_dossier_through_the_intake_form(officers):
    procedure = ProcedureFactory(department=officers["specialist"].department)
    client = client_for(officers["reception"])
    add = reverse("admin:dossiers_dossier_add")
    assert client.get(add, **HOST).status_code == 200
    page = client.get(f"{add}?procedure={procedure.pk}", **HOST)
    assert page.status_code == 200 and "Giấy chứng sinh" in page.content.decode()
    # The checklist: a tick and a number of copies per paper (the optional one not handed in).
    counts = {f"count_{c.pk}": c.count for c in procedure.components.all()}
    ticks = {f"has_{c.pk}": "on" for c in procedure.components.all() if c.required}
    response = client.post(
        f"{add}?procedure={procedure.pk}",
        {
            "channel": 1,
            "applicant_name": "Nguyễn Văn A",
            "applicant_id_number": "048090001234",
            "applicant_phone": "0905 123 456",
            **counts,
            **ticks,
        },
        **HOST,
    )
    dossier = Dossier.objects.get(applicant_name="Nguyễn Văn A")
    assert response.status_code == 302 and response["Location"] == change_url(dossier)
    assert dossier.status == Status.ACCEPTED and dossier.applicant_phone == "0905123456"
    assert re.fullmatch(r"000\.00\.01\.H15-\d{6}-\d{4}", dossier.code)
    page = client.get(change_url(dossier), **HOST).content.decode()
    assert dossier.code in page and "Tiếp nhận hồ sơ" in page  # the timeline inline (the registry's label)
    assert reverse("admin:dossiers_dossier_print", args=[dossier.pk, "receipt"]) in page


def test_intake_with_a_missing_required_paper_shows_the_error_and_creates_nothing(officers):
    procedure = ProcedureFactory()
    client = client_for(officers["reception"])
    add = reverse("admin:dossiers_dossier_add") + f"?procedure={procedure.pk}"
    response = client.post(add, {"channel": 1, "applicant_name": "Nguyễn Văn B"}, **HOST)
    assert response.status_code == 200
    assert "chưa đủ thành phần bắt buộc" in response.content.decode()
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    "action",
    ["hand_over", "request_supplement", "request_fees", "postpone", "stop", "mark_result_ready", "withdraw"],
)
def test_each_action_page_renders_for_an_officer_allowed_to_do_it(officers, action):
    dossier = receive(officers["reception"], ProcedureFactory(department=officers["leader"].department))
    from dossiers import services

    services.hand_over(dossier, officers["reception"], to_department=officers["leader"].department)
    # The counter requests fees and files withdrawals; the holding department (here the leader's) does the rest.
    actor = officers["reception"] if action in ("request_fees", "withdraw") else officers["leader"]
    response = client_for(actor).get(action_url(dossier, action), **HOST)
    assert response.status_code == 200
    assert 'name="version"' in response.content.decode()


def test_hand_over_and_supplement_request_through_admin_forms(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    client = client_for(officers["reception"])
    response = client.post(
        action_url(dossier, "hand_over"),
        {
            "version": dossier.version,
            "to_department": officers["specialist"].department.pk,
            "to_officer": officers["specialist"].pk,
        },
        **HOST,
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS and dossier.current_officer == officers["specialist"]

    specialist = client_for(officers["specialist"])
    page = specialist.get(action_url(dossier, "request_supplement"), **HOST).content.decode()
    components = list(dossier.procedure.components.all())
    assert all(c.name in page for c in components)
    response = specialist.post(
        action_url(dossier, "request_supplement"),
        {
            "version": dossier.version,
            f"missing_{components[0].pk}": "on",
            f"reason_{components[0].pk}": "Chưa ký tên",
            "other_items": "Ảnh 4x6: chưa nộp",
        },
        **HOST,
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT
    items = list(dossier.supplement_requests.get().items.values_list("name", "reason"))
    assert items == [("Tờ khai", "Chưa ký tên"), ("Ảnh 4x6", "chưa nộp")]


def test_a_checked_item_without_reason_is_refused_and_nothing_changes(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    component = dossier.procedure.components.first()
    response = client_for(officers["reception"]).post(
        action_url(dossier, "request_supplement"),
        {"version": dossier.version, f"missing_{component.pk}": "on"},
        **HOST,
    )
    assert response.status_code == 200 and "Ghi lý do" in response.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED


def test_a_stale_form_gives_a_clear_message_and_changes_nothing(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    client = client_for(officers["reception"])
    old_version = dossier.version
    from dossiers import services

    services.hand_over(dossier, officers["reception"], to_department=officers["specialist"].department)
    response = client.post(
        action_url(dossier, "withdraw"), {"version": old_version, "reason": "Xin rút"}, follow=True, **HOST
    )
    assert "vừa được người khác cập nhật" in response.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROGRESS


def test_a_forbidden_transition_is_explained(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    response = client_for(officers["reception"]).get(action_url(dossier, "return_result"), follow=True, **HOST)
    assert "Không thể “Trả kết quả” khi hồ sơ đang ở trạng thái “Được tiếp nhận”" in response.content.decode()


def test_reception_cannot_open_the_sign_result_form(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    assert client_for(officers["reception"]).get(action_url(dossier, "mark_result_ready"), **HOST).status_code == 403


def test_a_specialist_sees_only_their_departments_dossiers(officers, other_department):
    from dossiers import services

    mine = receive(officers["reception"], ProcedureFactory())
    services.hand_over(mine, officers["reception"], to_department=officers["specialist"].department)
    theirs = receive(officers["reception"], ProcedureFactory())
    services.hand_over(theirs, officers["reception"], to_department=other_department)
    client = client_for(officers["specialist"])
    listing = client.get(reverse("admin:dossiers_dossier_changelist"), {"worklist": "all"}, **HOST).content.decode()
    assert mine.code in listing and theirs.code not in listing
    assert client.get(change_url(theirs), **HOST).status_code == 404


def test_worklists_show_counts_and_search_ignores_diacritics(officers):
    receive(officers["reception"], ProcedureFactory(), name="Nguyễn Văn Đức")
    receive(officers["reception"], ProcedureFactory(), name="Trần Thị Bích", id_number="048190009999")
    client = client_for(officers["reception"])
    url = reverse("admin:dossiers_dossier_changelist")
    page = client.get(url, {"worklist": "all"}, **HOST).content.decode()
    assert "Chờ tiếp nhận (0)" in page and "Quá hạn (0)" in page  # the counter's worklists
    found = client.get(url, {"q": "nguyen van duc"}, **HOST).content.decode()
    assert "Nguyễn Văn Đức" in found and "Trần Thị Bích" not in found
    by_id = client.get(url, {"q": "048190009999"}, **HOST).content.decode()
    assert "Trần Thị Bích" in by_id and "Nguyễn Văn Đức" not in by_id


def test_the_timeline_cannot_be_edited_or_deleted_through_admin(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    event = dossier.events.get()
    # Timeline entries have no admin page of their own; the dossier page shows them read-only.
    assert DossierEvent not in admin.site._registry
    page = client_for(officers["reception"]).get(change_url(dossier), **HOST).content.decode()
    assert "Tiếp nhận hồ sơ" in page and 'name="events-0-citizen_note"' not in page
    response = client_for(officers["reception"]).post(change_url(dossier), {"status": 10}, **HOST)
    assert response.status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED
    assert DossierEvent.objects.get(pk=event.pk).citizen_note == event.citizen_note


def test_print_pages_are_served_from_the_admin(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    client = client_for(officers["reception"])
    for form in ("receipt", "control"):
        response = client.get(reverse("admin:dossiers_dossier_print", args=[dossier.pk, form]), **HOST)
        assert response.status_code == 200 and dossier.code in response.content.decode()
    assert client.get(reverse("admin:dossiers_dossier_print", args=[dossier.pk, "apology"]), **HOST).status_code == 404


def test_staff_without_officer_profile_cannot_receive(officers):
    """A staff account given the reception role but no officer profile used to receive as "system"."""
    from django.contrib.auth.models import User

    from offices.roles import assign_role

    user = User.objects.create_user("nhanvien.khong.ho.so", password="Mat-khau-dai-1", is_staff=True)
    assign_role(user, "reception")
    assert user.has_perm("dossiers.receive_dossier")
    procedure = ProcedureFactory()
    client = Client()
    otp_login(client, user, password="Mat-khau-dai-1")
    add = reverse("admin:dossiers_dossier_add") + f"?procedure={procedure.pk}"
    counts = {f"count_{c.pk}": c.count for c in procedure.components.all()}
    response = client.post(add, {"channel": 1, "applicant_name": "Nguyễn Văn C", **counts}, **HOST)
    assert response.status_code == 403
    assert not Dossier.objects.exists()
    listing = client.get(reverse("admin:dossiers_dossier_changelist"), {"worklist": "all"}, **HOST)
    assert listing.status_code == 200  # logged in and seeing the list …
    assert reverse("admin:dossiers_dossier_add") not in listing.content.decode()  # … with no "add" button


def test_the_dossier_page_offers_only_the_actions_the_officer_may_perform(officers, other_department):
    from dossiers import services

    dossier = receive(officers["reception"], ProcedureFactory())
    dossier = services.hand_over(dossier, officers["reception"], to_department=other_department)
    client = client_for(officers["reception"])
    page = client.get(change_url(dossier), **HOST).content.decode()
    offered = set(re.findall(r'data-action="([a-z_]+)"', page))
    # The counter's (a new QR receipt included); not the holder's hand-over or supplement.
    assert offered == {"request_fees", "withdraw", "reissue_token"}
    for action in ("hand_over", "request_supplement"):
        assert client.get(action_url(dossier, action), **HOST).status_code == 403
        response = client.post(
            action_url(dossier, action), {"version": dossier.version, "to_department": other_department.pk}, **HOST
        )
        assert response.status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version


def test_action_forms_label_both_notes_and_a_bare_note_stays_internal(officers):
    dossier = receive(officers["reception"], ProcedureFactory())
    client = client_for(officers["reception"])
    page = client.get(action_url(dossier, "hand_over"), **HOST).content.decode()
    assert "Ghi chú gửi công dân (hiển thị công khai)" in page and "Ghi chú nội bộ (chỉ cán bộ thấy)" in page
    assert page.index('name="internal_note"') < page.index('name="citizen_note"')  # internal first
    response = client.post(
        action_url(dossier, "hand_over"),
        {
            "version": dossier.version,
            "to_department": officers["specialist"].department.pk,
            "note": "Trình lãnh đạo ký, gọi anh Tuấn 0905000111",  # a field of an old page: whom for?
        },
        **HOST,
    )
    assert response.status_code == 302
    event = Dossier.objects.get(pk=dossier.pk).events.order_by("-id").first()
    assert (event.action, event.citizen_note) == ("hand_over", "")
    assert event.internal_note == "Trình lãnh đạo ký, gọi anh Tuấn 0905000111"
