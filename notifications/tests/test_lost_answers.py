"""Zalo accepted the message and its answer was lost: the citizen must still get it exactly once.

CS and template messages by user id take no tracking id, and their delivery receipts carry only the
message id that the lost answer held, so after the confirmation window the sender reconciles: it
reads the OA's conversation with the user and sends again only when the message is not there.
Each fault is injected at the fake Zalo (in-process, no webhooks here); "time passes" moves the
row's confirmation window into the past; the retry is what the task queued for the end of the
window (or the reaper) runs: ``delivery.send``.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers.tests.factories import receive
from notifications import delivery
from notifications.models import Channel, Kind, Notification, State
from zalo.models import DossierLink, Follower

pytestmark = pytest.mark.django_db

CS_PATH, TEMPLATE_PATH, ZNS_PATH = "/v3.0/oa/message/cs", "/v3.0/oa/message/template", "/message/template"


def _row(reception, zalo, channel, user_id="u-7001", phone="0905123456"):
    """A receipt message that will go out on ``channel`` (CS: the citizen wrote recently; template:
    a follower who did not write; ZNS: no Zalo account, a phone)."""
    dossier = receive(reception, phone=phone)
    if channel in (Channel.CS, Channel.TEMPLATE):
        recent = channel == Channel.CS
        follower = Follower.objects.create(
            user_id=user_id, is_following=True, last_interaction_at=timezone.now() if recent else None
        )
        DossierLink.objects.create(dossier=dossier, follower=follower)
        zalo.follow(user_id)
        if recent:
            zalo.interact(user_id)
    return Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)


def _window_over(row):
    """Time passes: the confirmation window of the uncertain send is over, no receipt came."""
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _retry_after_the_window(row):
    """What runs after the window: the reaper (beat) and the task queued for the window's end."""
    _window_over(row)
    due = delivery.reap()
    delivery.send(row.pk)
    return due


def _accepted(zalo, row, user_id):
    """Messages the fake accepted for this row (what the citizen's phone shows)."""
    return [m for m in zalo.find_messages(recipient=user_id, direction="out") if m["kind"] == row.channel]


@pytest.mark.parametrize("channel, path", [(Channel.CS, CS_PATH), (Channel.TEMPLATE, TEMPLATE_PATH)])
def test_control_without_faults_every_channel_sends_once(zalo, reception, channel, path):
    row = _row(reception, zalo, channel)
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert row.channel == channel
    assert [m["msg_id"] for m in _accepted(zalo, row, "u-7001")] == [row.zalo_message_id]


def test_control_without_faults_zns_sends_once(zalo, reception):
    row = _row(reception, zalo, Channel.ZNS)
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert row.channel == Channel.ZNS and zalo.count(row.tracking_id) == 1


def test_cs_message_with_lost_answer_is_reconciled_not_resent(zalo, reception):
    row = _row(reception, zalo, Channel.CS)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=[CS_PATH])  # accepted, answer lost
    assert delivery.send(row.pk).state == State.UNCERTAIN
    assert len(_accepted(zalo, Notification.objects.get(pk=row.pk), "u-7001")) == 1
    due = _retry_after_the_window(row)
    row.refresh_from_db()
    accepted = _accepted(zalo, row, "u-7001")
    assert len(accepted) == 1, accepted  # not sent a second time
    assert row.pk in due  # the reaper hands an unconfirmed CS row to the task, which reconciles it
    assert (row.state, row.zalo_message_id) == (State.SENT, accepted[0]["msg_id"])
    assert zalo.count(f"cs|u-7001|{row.text}") == 1
    assert "reconciled" in [a.outcome for a in row.attempt_log.all()]
    assert delivery.send(row.pk) is None  # a redelivered task finds nothing to do


def test_template_message_with_lost_answer_is_reconciled_not_resent(zalo, reception):
    row = _row(reception, zalo, Channel.TEMPLATE)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=[TEMPLATE_PATH])
    assert delivery.send(row.pk).state == State.UNCERTAIN
    _retry_after_the_window(row)
    row.refresh_from_db()
    accepted = _accepted(zalo, row, "u-7001")
    assert len(accepted) == 1, accepted
    assert (row.state, row.channel, row.zalo_message_id) == (State.SENT, Channel.TEMPLATE, accepted[0]["msg_id"])
    assert delivery.send(row.pk) is None
    assert len(_accepted(zalo, row, "u-7001")) == 1


@pytest.mark.parametrize("channel, path", [(Channel.CS, CS_PATH), (Channel.TEMPLATE, TEMPLATE_PATH)])
def test_a_message_zalo_never_took_is_sent_again_after_the_lookup(zalo, reception, channel, path):
    """The other half of reconciling: the connection dropped BEFORE Zalo took it; the conversation
    does not have it, so it is sent again — once."""
    row = _row(reception, zalo, channel)
    zalo.set_faults(drop_next=1, fault_paths=[path])
    assert delivery.send(row.pk).state == State.UNCERTAIN
    assert _accepted(zalo, Notification.objects.get(pk=row.pk), "u-7001") == []
    _retry_after_the_window(row)
    row.refresh_from_db()
    accepted = _accepted(zalo, row, "u-7001")
    assert row.state == State.SENT and [m["msg_id"] for m in accepted] == [row.zalo_message_id]
    assert [a.outcome for a in row.attempt_log.all()][-2:] == ["not_accepted", "sent"]


def test_a_failed_lookup_never_resends_on_a_guess(zalo, reception):
    row = _row(reception, zalo, Channel.CS)
    zalo.set_faults(drop_next=1, drop_after_processing=True, fault_paths=[CS_PATH])
    assert delivery.send(row.pk).state == State.UNCERTAIN
    zalo.set_faults(http_error_next=1, fault_paths=["/v2.0/oa/conversation"])  # the lookup fails (503)
    _retry_after_the_window(row)
    row.refresh_from_db()
    assert row.state == State.UNCERTAIN and row.next_attempt_at > timezone.now()  # asked again later
    assert len(_accepted(zalo, row, "u-7001")) == 1
    _retry_after_the_window(row)  # the next lookup answers: it is there
    row.refresh_from_db()
    assert row.state == State.SENT and len(_accepted(zalo, row, "u-7001")) == 1


def test_another_identical_looking_message_to_the_same_user_is_not_taken_for_this_one(zalo, reception):
    """Reconciling matches this row's own text; a message already recorded for another row (by its
    Zalo message id) never confirms this one."""
    first = _row(reception, zalo, Channel.CS)
    assert delivery.send(first.pk).state == State.SENT
    second = Notification.objects.create(
        dossier=first.dossier,
        kind=Kind.SUPPLEMENT,
        text=first.text,  # the very same words
        tracking_id="t-same-words",
        deadline=timezone.now() + timedelta(hours=1),
        next_attempt_at=timezone.now(),
    )
    zalo.set_faults(drop_next=1, fault_paths=[CS_PATH])  # this one never reached Zalo
    assert delivery.send(second.pk).state == State.UNCERTAIN
    _retry_after_the_window(second)
    second.refresh_from_db()
    assert (
        second.state == State.SENT and second.zalo_message_id != Notification.objects.get(pk=first.pk).zalo_message_id
    )
    assert len(_accepted(zalo, second, "u-7001")) == 2  # one each
