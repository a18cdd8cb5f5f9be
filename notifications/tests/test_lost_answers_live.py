"""Zalo accepted the message and its answer was lost — end to end: real Celery workers on a private
Redis, the portal as a real server receiving the fake's signed delivery receipts, the fake Zalo
counting every accepted message. Committed data on a throwaway province, dropped afterwards.

The fault is driven deterministically by the fake: it accepts the message, holds its answer (until
the portal has acknowledged the delivery receipt and the test releases it) and then loses it.
"""

import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for
from testing.zalo import APP

pytestmark = [pytest.mark.worker]

SLUG = "thumattin"
TIMING = {  # short windows so that recovery happens within the test
    "NOTIFICATION_CONFIRM_SECONDS": "3",
    "NOTIFICATION_STALE_SECONDS": "3",
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.5",
    "NOTIFICATION_RETRY_CAP_SECONDS": "2",
    "ZALO_HTTP_TIMEOUT": "60",  # the sender waits on the held answer until the fake loses it
}
PATHS = {"cs": "/v3.0/oa/message/cs", "template": "/v3.0/oa/message/template", "zns": "/message/template"}


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction (everything here is committed, as in production).

    Named ``db`` so that pytest-django creates the test database even when this module runs alone.
    """


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(
        django_db_blocker,
        slug=SLUG,
        name="Tỉnh Thử Mất Tin",
        agency_code="000.00.01.H95",
        app=APP,
        queues=settings.CELERY_TASK_DEFAULT_QUEUE,  # sends and receipts, on the stack's private Redis
        env_extra=TIMING,
    ) as live:
        yield live


@pytest.fixture
def live(stack, settings, django_db_blocker):
    """This process acts as beat (reaper) and may send: the same timings and the same fake as the workers."""
    from zalo import accounts

    for name, value in TIMING.items():
        setattr(settings, name, float(value))
    for name in ("ZALO_OAUTH_BASE_URL", "ZALO_OPENAPI_BASE_URL", "ZALO_BUSINESS_BASE_URL"):
        setattr(settings, name, stack.env[name])
    accounts._client.cache_clear()
    stack.fake.reset()
    yield stack
    stack.fake.release_answers()
    for worker in stack.workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=15)
    accounts._client.cache_clear()


def _receive(province, fake, channel, n):
    """A dossier whose receipt message goes out on ``channel`` (the citizen's Zalo account linked in
    the same transaction, so the send sees it); returns the outbox row's pk and the user id."""
    from dossiers import services
    from dossiers.models import Procedure
    from notifications.models import Kind, Notification
    from offices.models import Officer
    from zalo.models import DossierLink, Follower

    user_id = f"mat-{channel}-{n}-{timezone.now().timestamp():.0f}"
    if channel != "zns":  # the citizen follows the OA: the portal learns it from the "follow" webhook
        fake.follow(user_id)
        wait_for(lambda: _follower_known(province, user_id), 60, "the follow webhook processed")
    if channel == "cs":
        fake.interact(user_id)
    with tenant_context(province), transaction.atomic():
        procedure = Procedure.objects.get(code="1.004873")
        dossier = services.receive_dossier(
            officer=Officer.objects.get(user__username="motcua"),
            procedure=procedure,
            applicant=services.Applicant(f"Người thử {n}", phone=f"09060{n:05d}"),
            components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
        )
        pk = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT).pk
        if channel != "zns":
            follower = Follower.objects.get(user_id=user_id)
            # CS: wrote to the OA just now; template: followed long ago, no interaction since.
            recent = timezone.now() if channel == "cs" else timezone.now() - timedelta(days=30)
            Follower.objects.filter(pk=follower.pk).update(last_interaction_at=recent)
            DossierLink.objects.create(dossier=dossier, follower=follower)
    connection.set_schema_to_public()
    return pk, user_id


def _follower_known(province, user_id):
    from zalo.models import Follower

    with tenant_context(province):
        known = Follower.objects.filter(user_id=user_id, is_following=True).exists()
    connection.set_schema_to_public()
    return known


def _row(province, pk):
    from notifications.models import Notification

    with tenant_context(province):
        row = Notification.objects.get(pk=pk)
        log = list(row.attempt_log.values_list("outcome", flat=True))
    connection.set_schema_to_public()
    return row, log


def _accepted(fake, row):
    """How many times the fake accepted this row's message (ZNS by our tracking id; CS/template by recipient)."""
    if row.channel == "zns":
        return fake.count(row.tracking_id)
    return len([m for m in fake.find_messages(recipient=row.recipient, direction="out") if m["kind"] == row.channel])


def _settle(province, pks, seconds=90):
    """Reap as beat would (every half second here) until these rows are all SENT."""
    from notifications import delivery
    from notifications.models import Notification, State
    from notifications.tasks import send_notification

    def all_sent():
        with tenant_context(province):
            for pk in delivery.reap():
                send_notification.delay(pk)
            done = Notification.objects.filter(pk__in=pks, state=State.SENT).count() == len(pks)
        connection.set_schema_to_public()
        return done

    wait_for(all_sent, seconds, "every message sent")


def test_receipt_during_a_lost_answer_is_not_overwritten(db, live, django_db_blocker):
    """ZNS: the receipt (with our tracking id) arrives and is processed while the sender still waits
    for Zalo's answer; the answer is then lost. The sender must not put its stale view back (which
    made the reaper send again): the row stays SENT and the fake counts one accepted message."""
    from notifications import delivery
    from notifications.models import State

    fake, province = live.fake, live.province
    fake.set_faults(hold_answer_next=1, hold_answer_until_released=True, fault_paths=[PATHS["zns"]])
    live.start_worker(concurrency=2)  # one process sends, the other processes the receipt
    with django_db_blocker.unblock():
        pk, _ = _receive(province, fake, "zns", 1)
        wait_for(
            lambda: fake.held_answers == 1 and _row(province, pk)[0].state == State.SENT,
            60,
            "the receipt processed while the answer is held",
        )
        fake.release_answers()  # the answer is lost: the sender gets a transport failure
        wait_for(lambda: _row(province, pk)[1], 60, "the sender to record its attempt")
        for worker in live.workers:
            worker.terminate()
            worker.wait(timeout=15)
        # After the confirmation window: what beat and the retry queued for the window's end do.
        later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS + 60)
        with tenant_context(province):
            for due in {pk, *delivery.reap(now=later)}:
                delivery.send(due)
        connection.set_schema_to_public()
        row, log = _row(province, pk)
    assert fake.count(row.tracking_id) == 1, log  # exactly one accepted message
    assert row.state == State.SENT and row.delivered_at, (row.state, log)
    assert fake.stats()["faults_injected"].get("hold_answer") == 1


@pytest.mark.parametrize("channel", ["cs", "template", "zns"])
def test_answer_lost_after_acceptance_and_worker_killed_each_message_once(db, live, django_db_blocker, channel):
    """Per channel: Zalo accepts, the answer is held, the worker is SIGKILLed while waiting, the
    answer is lost; a new worker and the reaper finish the job — the fake accepted it exactly once."""
    from notifications.models import State

    fake, province = live.fake, live.province
    fake.set_faults(hold_answer_next=1, hold_answer_until_released=True, fault_paths=[PATHS[channel]])
    worker = live.start_worker()
    with django_db_blocker.unblock():
        pk, _ = _receive(province, fake, channel, 2)
        wait_for(lambda: fake.held_answers == 1, 60, "Zalo to accept the message and hold its answer")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        fake.release_answers()
        live.start_worker()
        _settle(province, [pk])
        row, log = _row(province, pk)
    assert _accepted(fake, row) == 1, log
    assert row.channel == channel and row.state == State.SENT, (row.channel, row.state, log)
    assert fake.stats()["duplicates"] == {}


def test_control_without_faults_every_channel_sends_once(db, live, django_db_blocker):
    from notifications.models import State

    fake, province = live.fake, live.province
    live.start_worker()
    with django_db_blocker.unblock():
        rows = []
        for n, channel in enumerate(["cs", "template", "zns"], start=3):
            rows.append(_receive(province, fake, channel, n)[0])
        _settle(province, rows)
        final = [_row(province, pk)[0] for pk in rows]
    assert [(r.channel, r.state) for r in final] == [("cs", State.SENT), ("template", State.SENT), ("zns", State.SENT)]
    assert [_accepted(fake, r) for r in final] == [1, 1, 1]
