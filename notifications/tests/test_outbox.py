"""Messages to citizens: written with their event, sent once, retried, visible when impossible."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers import services
from dossiers.events import dossier_event
from dossiers.models import Dossier
from dossiers.tests.factories import receive
from notifications import delivery
from notifications.models import Channel, Kind, Notification, State
from zalo.models import DossierLink, Follower

pytestmark = pytest.mark.django_db


def test_the_outbox_row_is_written_with_the_event_and_a_replay_writes_nothing(zalo, reception):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    assert (row.kind, row.state, row.event.action) == (Kind.RECEIPT, State.PENDING, "receive")
    assert dossier.code in row.text and "/tra-cuu/" in row.text
    dossier_event.send(sender=Dossier, event=row.event, dossier=dossier)  # the same event again
    assert Notification.objects.filter(dossier=dossier).count() == 1


def test_a_second_supplement_request_is_a_new_message(zalo, reception):
    dossier = receive(reception)
    items = [services.MissingItem("Tờ khai", "Thiếu chữ ký")]
    services.request_supplement(dossier, reception, items=items)
    services.receive_supplement(dossier, reception)
    services.request_supplement(dossier, reception, items=[services.MissingItem("Giấy chứng sinh", "Bản mờ")])
    texts = list(Notification.objects.filter(dossier=dossier, kind=Kind.SUPPLEMENT).values_list("text", flat=True))
    assert len(texts) == 2
    assert any("Giấy chứng sinh (Bản mờ)" in t for t in texts) and any("Tờ khai (Thiếu chữ ký)" in t for t in texts)
    assert all(reception.full_name in t for t in texts)  # the officer to contact


def test_zns_by_phone_is_sent_once_even_if_the_task_runs_twice(zalo, reception):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    assert delivery.send(row.pk).state == State.SENT
    assert delivery.send(row.pk) is None  # a redelivered task finds nothing pending
    row.refresh_from_db()
    assert (row.channel, row.recipient) == (Channel.ZNS, "84905123456")
    assert row.zalo_message_id and row.sent_at
    assert zalo.count(row.tracking_id) == 1


def test_a_citizen_who_wrote_recently_gets_a_cs_message(zalo, reception):
    dossier = receive(reception)
    follower = Follower.objects.create(user_id="u-1001", is_following=True, last_interaction_at=timezone.now())
    DossierLink.objects.create(dossier=dossier, follower=follower)
    zalo.interact("u-1001")
    row = Notification.objects.get(dossier=dossier)
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert (row.channel, row.recipient) == (Channel.CS, "u-1001")
    assert [m["text"] for m in zalo.find_messages(recipient="u-1001")] == [row.text]


def test_cs_refused_falls_back_to_a_template_then_zns(zalo, reception):
    dossier = receive(reception)
    follower = Follower.objects.create(user_id="u-2002", is_following=True, last_interaction_at=timezone.now())
    DossierLink.objects.create(dossier=dossier, follower=follower)
    # The fake never saw this user interact (−230) nor follow (−213): ZNS by phone is left.
    row = Notification.objects.get(dossier=dossier)
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert row.channel == Channel.ZNS
    assert [a.outcome for a in row.attempt_log.all()] == ["fallback", "fallback", "sent"]


def test_no_channel_is_recorded_for_the_officer(zalo, reception):
    dossier = receive(reception, phone="")
    row = Notification.objects.get(dossier=dossier)
    assert delivery.send(row.pk).state == State.NO_CHANNEL
    row.refresh_from_db()
    assert "chưa liên kết Zalo" in row.last_error


def test_rate_limited_then_retried_with_backoff(zalo, reception):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    zalo.set_faults(rate_limit_next=1)
    outcome = delivery.send(row.pk)
    assert outcome.state == State.PENDING and outcome.retry_at > timezone.now()
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.send(row.pk).state == State.SENT
    assert zalo.count(row.tracking_id) == 1


def test_an_expired_token_is_refreshed_once_mid_run(zalo, reception):
    first, second = receive(reception), receive(reception)
    assert delivery.send(Notification.objects.get(dossier=first).pk).state == State.SENT
    zalo.expire_tokens()
    row = Notification.objects.get(dossier=second)
    assert delivery.send(row.pk).state == State.SENT
    assert zalo.count(row.tracking_id) == 1


def test_a_lost_answer_waits_for_a_receipt_before_sending_again(zalo, reception, settings):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    zalo.set_faults(http_error_next=1, fault_paths=["/message/template"])  # 503: the fake did not take it
    assert delivery.send(row.pk).state == State.UNCERTAIN
    assert delivery.reap() == []  # still inside the confirmation window
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS + 1)
    delivery.reap(now=later)
    assert Notification.objects.get(pk=row.pk).state == State.PENDING
    assert delivery.send(row.pk).state == State.SENT
    assert zalo.count(row.tracking_id) == 1


def test_an_uncertain_send_confirmed_by_a_receipt_is_not_sent_again(zalo, reception, settings):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=["/message/template"])  # answer lost
    assert delivery.send(row.pk).state == State.UNCERTAIN
    assert delivery.record_delivery(tracking_id=row.tracking_id) == 1  # the delivery webhook
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS + 1)
    delivery.reap(now=later)
    row.refresh_from_db()
    assert row.state == State.SENT and row.delivered_at
    assert zalo.count(row.tracking_id) == 1


def test_night_ban_waits_for_six_in_the_morning(zalo, reception):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    zalo.set_faults(night_ban="on")
    outcome = delivery.send(row.pk)
    assert outcome.state == State.PENDING
    assert timezone.localtime(outcome.retry_at).hour == 6


def test_retries_stop_at_the_deadline_with_the_reason(zalo, reception):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    Notification.objects.filter(pk=row.pk).update(deadline=timezone.now() + timedelta(seconds=1))
    zalo.set_faults(rate_limit_next=1)
    assert delivery.send(row.pk).state == State.FAILED
    assert "Hết hạn gửi" in Notification.objects.get(pk=row.pk).last_error


def test_a_worker_killed_mid_send_is_reaped(zalo, reception, settings):
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    stale = timezone.now() - timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS + 5)
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claimed_at=stale, attempts=1)
    delivery.reap()
    assert Notification.objects.get(pk=row.pk).state == State.UNCERTAIN
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS + 1)
    delivery.reap(now=later)
    assert delivery.send(row.pk).state == State.SENT


def test_the_claim_locks_only_the_outbox_row(zalo, reception):
    """An officer working on the dossier (its row locked) must not hide its messages from the sender."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier)
    with CaptureQueriesContext(connection) as queries:
        claimed, _ = delivery._claim(row.pk)
    assert claimed is not None and claimed.state == State.SENDING
    lock = next(q["sql"] for q in queries if "FOR UPDATE" in q["sql"])
    assert 'FOR UPDATE OF "notifications_notification" SKIP LOCKED' in lock
