"""Linking a Zalo account to a dossier by chat: the full verifier, 3 accounts at most, announced to the
applicant's phone, visible to officers, who can remove a link so that nothing more goes to that account."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from dossiers import services
from dossiers.tests.factories import receive
from notifications import delivery
from notifications.models import Channel, Kind, Notification, State
from zalo import inbox
from zalo.models import DossierLink, InboundEvent, ZaloAccount
from zalo.tests.test_portal_zalo import HOST, post, signed, text_event

pytestmark = pytest.mark.django_db
RIGHT = "0905 123 456"  # the applicant's phone in dossiers.tests.factories.receive
PHONE_FOR_ZNS = "84905123456"


def chat(zalo, user, text, callbacks):
    """A citizen writes to the OA; the stored event is processed; returns (outcome, the bot's reply)."""
    raw, signature = signed(text_event(text, user=user, msg_id=f"m-{user}-{InboundEvent.objects.count()}"))
    assert post(raw, signature).status_code == 200
    zalo.interact(user)
    with callbacks(execute=True):
        outcome = inbox.process(InboundEvent.objects.latest("received_at").pk)
    return outcome, zalo.find_messages(recipient=user)[-1]["text"]


def test_the_last_four_digits_do_not_link_a_zalo_account(zalo, reception, django_capture_on_commit_callbacks):
    dossier = receive(reception)
    outcome, reply = chat(zalo, "u-guess", f"{dossier.code} 3456", django_capture_on_commit_callbacks)
    assert outcome == "answered" and "đầy đủ số điện thoại" in reply and "Được tiếp nhận" not in reply
    assert not DossierLink.objects.exists()


def test_a_fourth_zalo_account_cannot_link(zalo, reception, django_capture_on_commit_callbacks):
    dossier = receive(reception)
    for n in range(3):
        outcome, reply = chat(zalo, f"u-{n}", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
        assert outcome == "linked" and "Từ nay ông/bà sẽ nhận tin" in reply
    outcome, reply = chat(zalo, "u-fourth", f"{dossier.code} 048090001234", django_capture_on_commit_callbacks)
    assert outcome == "link_refused"
    assert "đủ 3 tài khoản Zalo" in reply and "Từ nay ông/bà sẽ nhận tin" not in reply
    live = DossierLink.objects.filter(dossier=dossier, removed_at__isnull=True)
    assert sorted(live.values_list("follower__user_id", flat=True)) == ["u-0", "u-1", "u-2"]
    # Writing again from a linked account changes nothing and is not refused.
    outcome, _reply = chat(zalo, "u-1", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    assert outcome == "linked" and live.count() == 3


def test_linking_is_announced_to_the_applicants_phone(zalo, reception, django_capture_on_commit_callbacks):
    ZaloAccount.objects.update(template_zalo_link="tpl-tiep-nhan")
    dossier = receive(reception)
    chat(zalo, "u-stranger", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    row = Notification.objects.get(dossier=dossier, kind=Kind.ZALO_LINK)
    assert "vừa đăng ký nhận tin về hồ sơ" in row.text and dossier.code in row.text and "…nger" in row.text
    # It goes to the applicant's phone by ZNS, never to the Zalo account that just linked itself.
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert (row.channel, row.recipient) == (Channel.ZNS, PHONE_FOR_ZNS)
    assert all(row.text not in m.get("text", "") for m in zalo.find_messages(recipient="u-stranger"))
    # A second message from the same account is no new link: no second announcement.
    chat(zalo, "u-stranger", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    assert Notification.objects.filter(dossier=dossier, kind=Kind.ZALO_LINK).count() == 1


def test_officer_removes_a_link_and_messages_stop(zalo, reception, specialist, django_capture_on_commit_callbacks):
    dossier = receive(reception)
    chat(zalo, "u-hijack", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    receipt = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
    assert delivery.send(receipt.pk).state == State.SENT
    receipt.refresh_from_db()
    assert (receipt.channel, receipt.recipient) == (Channel.CS, "u-hijack")  # linked: it gets the news

    officer = Client()
    officer.force_login(reception.user)
    listing = officer.get(f"/admin/zalo/dossierlink/?q={dossier.code}", **HOST)
    assert listing.status_code == 200 and "u-hijack" in listing.content.decode()
    link = DossierLink.objects.get(dossier=dossier, follower__user_id="u-hijack")
    response = officer.post(
        "/admin/zalo/dossierlink/",
        {"action": "remove_links", "_selected_action": [link.pk], "index": 0},
        **HOST,
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.removed_at is not None and link.removed_by == reception  # kept, with who removed it
    assert LogEntry.objects.filter(object_id=str(link.pk), change_message__contains="u-hijack").exists()

    before = len(zalo.find_messages(recipient="u-hijack"))
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    services.request_supplement(dossier, specialist, items=[services.MissingItem("Giấy chứng sinh", "Bản mờ")])
    supplement = Notification.objects.get(dossier=dossier, kind=Kind.SUPPLEMENT)
    delivery.send(supplement.pk)
    supplement.refresh_from_db()
    assert supplement.recipient != "u-hijack" and supplement.channel != Channel.CS
    assert len(zalo.find_messages(recipient="u-hijack")) == before
    # The same account cannot quietly come back without it being announced again.
    chat(zalo, "u-hijack", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    assert Notification.objects.filter(dossier=dossier, kind=Kind.ZALO_LINK).count() == 2


def test_only_officers_with_the_permission_can_remove_links(
    zalo, reception, specialist, django_capture_on_commit_callbacks
):
    dossier = receive(reception)
    chat(zalo, "u-1", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    link = DossierLink.objects.get()
    other = Client()
    other.force_login(specialist.user)
    response = other.post(
        "/admin/zalo/dossierlink/", {"action": "remove_links", "_selected_action": [link.pk], "index": 0}, **HOST
    )
    assert response.status_code == 403
    link.refresh_from_db()
    assert link.removed_at is None


def test_the_dossier_page_shows_its_zalo_accounts(zalo, reception, django_capture_on_commit_callbacks):
    dossier = receive(reception)
    chat(zalo, "u-seen-1", f"{dossier.code} {RIGHT}", django_capture_on_commit_callbacks)
    officer = Client()
    officer.force_login(reception.user)
    html = officer.get(f"/admin/dossiers/dossier/{dossier.pk}/change/", **HOST).content.decode()
    assert "u-seen-1" in html and f"/admin/zalo/dossierlink/?q={dossier.code}" in html
