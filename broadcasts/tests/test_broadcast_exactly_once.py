"""Issue 10.1 and 10.3 for broadcasts, against the fake Zalo: a lost answer is reconciled in the OA's
conversation (never resent on a guess), a receipt for another message to the same citizen confirms
nothing, and routine daytime broadcasts go out as one article with the fields Zalo requires — or,
when Zalo refuses it, fall back per follower visibly (admin page and audit)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from broadcasts import delivery, services
from broadcasts.models import AuditEntry, Recipient, Severity, State
from conftest import otp_login
from offices.tests.factories import OfficerFactory
from zalo import accounts
from zalo.models import Follower, ZaloAccount

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
CS = "/v3.0/oa/message/cs"


@pytest.fixture
def admins(in_danang):
    return OfficerFactory(role="province_admin"), OfficerFactory(role="province_admin")


@pytest.fixture
def timing(settings):
    settings.NOTIFICATION_STALE_SECONDS = 60.0
    settings.NOTIFICATION_CONFIRM_SECONDS = 60.0
    return settings


def approved(admins, **overrides):
    author, other = admins
    fields = {
        "category": "storm_flood",
        "severity": Severity.EMERGENCY,
        "title": "Bão số 5 đổ bộ",
        "body": "Người dân khu vực ven biển di dời đến nơi an toàn trước 18:00.",
        "expires_at": timezone.now() + timedelta(days=2),
        **overrides,
    }
    return services.approve(services.submit(services.create(author, **fields), author), other)


def interacted(zalo, user_id):
    zalo.interact(user_id)
    return Follower.objects.create(user_id=user_id, is_following=True, last_interaction_at=timezone.now())


def broadcast_messages(zalo, user_id, b):
    return [m for m in zalo.find_messages(recipient=user_id, kind="cs") if m["text"] == delivery.message_text(b)]


def later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def test_zalo_accepts_but_the_answer_is_lost_the_row_is_reconciled_not_resent(admins, zalo, timing):
    interacted(zalo, "lost-1")
    b = approved(admins)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=[CS])  # accepted, answer lost
    for ids in delivery.start(b.pk):
        delivery.send_batch(b.pk, ids)
    row = Recipient.objects.get(broadcast=b)
    assert row.status == Recipient.Status.UNCERTAIN, row.error  # not "failed": it may well have arrived
    assert len(broadcast_messages(zalo, "lost-1", b)) == 1

    assert delivery.resume(now=later(10)) == {}  # too early to look: nothing changes, nothing is queued
    assert Recipient.objects.get(pk=row.pk).status == Recipient.Status.UNCERTAIN
    for batches in delivery.resume(now=later(61)).values():  # the conversation shows it went out
        for ids in batches:
            delivery.send_batch(b.pk, ids)
    row.refresh_from_db()
    (accepted,) = broadcast_messages(zalo, "lost-1", b)
    assert (row.status, row.message_id, row.channel) == (Recipient.Status.SENT, accepted["msg_id"], "cs")
    assert zalo.stats()["duplicates"] == {}
    delivery.finish_if_done(b.pk)
    b.refresh_from_db()
    assert b.state == State.SENT


def test_control_a_send_zalo_never_accepted_is_sent_again_once(admins, zalo, timing):
    interacted(zalo, "lost-2")
    b = approved(admins)
    zalo.set_faults(drop_next=1, drop_after_processing=False, fault_paths=[CS])  # dropped before Zalo took it
    for ids in delivery.start(b.pk):
        delivery.send_batch(b.pk, ids)
    assert Recipient.objects.get(broadcast=b).status == Recipient.Status.UNCERTAIN
    assert broadcast_messages(zalo, "lost-2", b) == []
    work = delivery.resume(now=later(61))
    assert work == {b.pk: [[Recipient.objects.get(broadcast=b).pk]]}
    for ids in work[b.pk]:
        delivery.send_batch(b.pk, ids)
    assert Recipient.objects.get(broadcast=b).status == Recipient.Status.SENT
    assert len(broadcast_messages(zalo, "lost-2", b)) == 1


def test_when_nobody_can_tell_the_row_fails_visibly_and_is_never_resent(admins, zalo, timing):
    interacted(zalo, "lost-3")
    b = approved(admins)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=[CS])
    for ids in delivery.start(b.pk):
        delivery.send_batch(b.pk, ids)
    zalo.set_faults(http_error_next=1000, fault_paths=["/v2.0/oa/conversation"])  # the lookup keeps failing
    assert delivery.resume(now=later(61)) == {}
    assert Recipient.objects.get(broadcast=b).status == Recipient.Status.UNCERTAIN
    give_up = 60 + 60 * delivery.GIVE_UP_AFTER_CONFIRMS + 1
    assert delivery.resume(now=later(give_up)) == {}
    row = Recipient.objects.get(broadcast=b)
    assert row.status == Recipient.Status.FAILED and "không gửi lại" in row.error
    assert len(broadcast_messages(zalo, "lost-3", b)) == 1
    assert delivery.progress(b)["failed"] == 1


def test_a_dossier_messages_receipt_does_not_confirm_a_broadcast_that_never_arrived(admins, zalo, timing):
    from zalo.inbox import on_received

    interacted(zalo, "same-user")
    b = approved(admins)
    delivery.start(b.pk)
    # A worker was killed before its send reached Zalo: the reaper left the row uncertain.
    Recipient.objects.filter(broadcast=b).update(status=Recipient.Status.UNCERTAIN, claimed_at=later(-30))
    # Meanwhile the same citizen gets a dossier notice, and Zalo's receipt for it comes back.
    client = accounts.client()
    msg_id = accounts.call_with_token(lambda t: client.send_cs_message(t, "same-user", "Hồ sơ 000.00.01 đã có kết quả"))
    now_ms = str(int(timezone.now().timestamp() * 1000))
    on_received(
        {
            "app_id": ZaloAccount.objects.get().app_id,
            "event_name": "user_received_message",
            "sender": {"id": ZaloAccount.objects.get().oa_id},
            "recipient": {"id": "same-user"},
            "message": {"msg_id": msg_id, "delivery_time": now_ms},
            "timestamp": now_ms,
        }
    )
    assert Recipient.objects.get(broadcast=b).status == Recipient.Status.UNCERTAIN
    for ids in delivery.resume(now=later(61)).get(b.pk, []):  # not in the conversation: sent now, once
        delivery.send_batch(b.pk, ids)
    assert Recipient.objects.get(broadcast=b).status == Recipient.Status.SENT
    assert len(broadcast_messages(zalo, "same-user", b)) == 1


def test_article_broadcast_is_sent_as_an_article(admins, zalo, monkeypatch):
    ZaloAccount.objects.update(name="Cổng dịch vụ công Đà Nẵng")
    for i in range(3):
        interacted(zalo, f"art-{i}")
        zalo.follow(f"art-{i}")
    b = approved(admins, severity=Severity.INFORMATION, title="Lịch tiếp công dân tháng 12", category="reception")
    monkeypatch.setattr(delivery.zerr, "in_night_ban", lambda now=None: False)  # daytime, whatever the clock
    zalo.set_options(article_processing=0)
    assert delivery.start(b.pk) == []
    b.refresh_from_db()
    assert (b.delivery_mode, b.state) == ("article", State.SENT)
    (article,) = zalo._article_ids.values()
    assert article.author == "Cổng dịch vụ công Đà Nẵng"
    assert article.cover_url.endswith("/static/broadcasts/article-cover.png")
    assert article.title == b.title and article.description == b.body
    assert len(zalo.find_messages(kind="broadcast")) == 3
    assert zalo.find_messages(kind="cs") == [] and zalo.find_messages(kind="template") == []
    assert not Recipient.objects.filter(broadcast=b).exists()
    assert not AuditEntry.objects.filter(broadcast=b, action="article_fallback").exists()


def test_article_fallback_is_shown_and_audited(admins, zalo, monkeypatch):
    interacted(zalo, "fb-1")
    zalo.follow("fb-1")
    b = approved(admins, severity=Severity.INFORMATION, title="Lịch cắt điện tuần này", category="utility_cut")
    monkeypatch.setattr(delivery.zerr, "in_night_ban", lambda now=None: False)
    zalo.set_options(article_processing=0)
    zalo.set_faults(quota_exhausted=True)  # Zalo refuses the article broadcast (monthly quota)
    for ids in delivery.start(b.pk):
        delivery.send_batch(b.pk, ids)
    b.refresh_from_db()
    assert (b.delivery_mode, b.state) == ("per_follower", State.SENT)
    assert len(broadcast_messages(zalo, "fb-1", b)) == 1
    (entry,) = AuditEntry.objects.filter(broadcast=b, action="article_fallback")
    assert entry.actor is None and "-211" in entry.note
    client = Client()
    otp_login(client, admins[0].user)
    page = client.get(f"/admin/broadcasts/broadcast/{b.pk}/change/", **HOST).content.decode()
    assert 'class="errornote article-fallback"' in page and "chuyển sang gửi từng người" in page
