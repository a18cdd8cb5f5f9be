"""Each indicator's definition on hand-made dossiers (reports/indicators.py's docstring)."""

from datetime import date

import pytest

from dossiers.models import Channel
from reports.indicators import LABELS, Scope, breakdown_direct, dossiers_behind, figures_direct

from .checks import check_kept
from .helpers import ask_supplement, at, done, received, registered, sign, step, to_department

pytestmark = pytest.mark.django_db

MARCH = Scope(date(2026, 3, 1), date(2026, 3, 31))


def check_behind(scope, result):
    """Every number clicks through to exactly the dossiers it counts; the kept figures agree."""
    for key in LABELS:
        assert dossiers_behind(scope, key).count() == getattr(result, key), key
    check_kept(scope)


def test_done_early_on_time_late_at_the_boundaries(officers):
    # Received Monday 02/03 09:00, 3 working days: due Thursday 05/03.
    reception = officers["reception"]
    early, on_time, late = (received(reception, at(2026, 3, 2, 9, 0)) for _ in range(3))
    assert early.due_date == date(2026, 3, 5)
    done(early, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 4, 16, 0))
    done(on_time, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 5, 23, 0))
    done(late, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 6, 0, 5))
    result = figures_direct(MARCH)
    assert (result.done_early, result.done_on_time, result.done_late) == (1, 1, 1)
    assert result.received == result.received_counter == 3
    # Processing days: 2 (03, 04), 3 (03–05), 4 (03–06).
    assert result.durations == {2: 1, 3: 1, 4: 1}
    assert result.avg_days == 3.0 and result.p90_days == 4
    check_behind(MARCH, result)


def test_paused_time_is_not_processing_time(officers):
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = received(reception, at(2026, 3, 2, 9, 0), days=5)
    to_department(at(2026, 3, 2, 10, 0), dossier, reception, specialist)
    ask_supplement(at(2026, 3, 3, 10, 0), dossier, specialist)  # paused Tue → Mon: stops Wed, Thu, Fri, Mon
    step(at(2026, 3, 9, 9, 0), "receive_supplement", dossier, specialist)
    sign(at(2026, 3, 11, 9, 0), dossier, officers["leader"])
    result = figures_direct(MARCH)
    # Working days after 02/03 up to 11/03: 7; minus 4 stopped = 3.
    assert result.durations == {3: 1}


def test_carried_over(officers):
    reception = officers["reception"]
    carried = received(reception, at(2026, 2, 25, 9, 0))
    done(carried, officers, at(2026, 2, 26, 9, 0), at(2026, 3, 2, 9, 0))
    closed_before = received(reception, at(2026, 2, 25, 9, 0))
    step(at(2026, 2, 27, 9, 0), "withdraw", closed_before, reception, reason="Theo đơn")
    done_before = received(reception, at(2026, 2, 25, 9, 0))
    done(done_before, officers, at(2026, 2, 26, 9, 0), at(2026, 2, 28, 9, 0))
    step(at(2026, 3, 3, 9, 0), "return_result", done_before, reception)  # returned in March: still not carried
    result = figures_direct(MARCH)
    assert result.carried_over == 1 and result.received == 0 and result.done == 1
    assert list(dossiers_behind(MARCH, "carried_over")) == [carried]
    check_behind(MARCH, result)


def test_channels_refused_withdrawn_stopped(officers):
    reception, leader = officers["reception"], officers["leader"]
    received(reception, at(2026, 3, 2, 9, 0), channel=Channel.ONLINE)
    received(reception, at(2026, 3, 2, 9, 0), channel=Channel.POSTAL)
    refused = registered(at(2026, 3, 2, 9, 0))
    step(at(2026, 3, 2, 10, 0), "refuse", refused, reception, reason="Sai thủ tục")
    registered(at(2026, 3, 2, 9, 0))  # not accepted: not received
    withdrawn = received(reception, at(2026, 3, 3, 9, 0))
    step(at(2026, 3, 4, 9, 0), "withdraw", withdrawn, reception, reason="Theo đơn")
    stopped = received(reception, at(2026, 3, 3, 9, 0))
    to_department(at(2026, 3, 3, 10, 0), stopped, reception, officers["specialist"])
    step(at(2026, 3, 4, 9, 0), "stop", stopped, leader, reason="Không đủ điều kiện")
    result = figures_direct(MARCH)
    assert (result.received, result.received_counter, result.received_online, result.received_postal) == (4, 2, 1, 1)
    assert (result.refused, result.withdrawn, result.stopped) == (1, 1, 1)
    check_behind(MARCH, result)
    assert breakdown_direct(MARCH, "point")[0].figures.received == 4


def test_stocks_at_the_end_of_a_past_period(officers):
    """In progress within / late and paused at the end of March, whatever happened after it."""
    reception, specialist = officers["reception"], officers["specialist"]
    late = received(reception, at(2026, 3, 2, 9, 0))  # due 05/03, still open
    within = received(reception, at(2026, 3, 25, 9, 0), days=5)  # due 01/04
    assert within.due_date == date(2026, 4, 1)
    paused = received(reception, at(2026, 3, 2, 9, 0))
    ask_supplement(at(2026, 3, 3, 10, 0), paused, reception)
    step(at(2026, 4, 6, 9, 0), "receive_supplement", paused, reception)  # received after the period
    # Due 30/03 (20 working days), late on 31/03; a supplement asked and received in April moves its
    # due date into May: at the end of March it was late all the same.
    moved = received(reception, at(2026, 3, 2, 9, 0), days=20)
    assert moved.due_date == date(2026, 3, 30)
    ask_supplement(at(2026, 4, 1, 10, 0), moved, reception)
    step(at(2026, 4, 29, 9, 0), "receive_supplement", moved, reception)
    moved.refresh_from_db()
    assert moved.due_date > date(2026, 3, 31)
    # Paused and resumed within March: its due date moved by the stopped days (03/03 → 09/03: 4).
    resumed = received(reception, at(2026, 3, 2, 9, 0))
    to_department(at(2026, 3, 2, 10, 0), resumed, reception, specialist)
    ask_supplement(at(2026, 3, 2, 11, 0), resumed, specialist)
    step(at(2026, 3, 6, 9, 0), "receive_supplement", resumed, specialist)
    # Done in April: in progress at the end of March.
    done_after = received(reception, at(2026, 3, 30, 9, 0), days=1)
    done(done_after, officers, at(2026, 3, 30, 10, 0), at(2026, 4, 1, 9, 0))
    result = figures_direct(MARCH)
    assert result.paused == 1
    assert result.in_progress_late == 3  # late, moved, resumed
    assert result.in_progress_within == 2  # within, done_after
    assert set(dossiers_behind(MARCH, "in_progress_late")) == {late, moved, resumed}
    assert set(dossiers_behind(MARCH, "paused")) == {paused}
    check_behind(MARCH, result)
    april = Scope(date(2026, 4, 1), date(2026, 4, 30))
    assert figures_direct(april).carried_over == 6
    check_kept(april)


def test_stocks_of_a_period_not_ended_are_todays(officers):
    from django.utils import timezone

    reception = officers["reception"]
    now = timezone.localtime()
    today = now.date()
    recent = received(reception, now - timezone.timedelta(minutes=5), days=10)
    waiting = received(reception, now - timezone.timedelta(minutes=5), days=10)
    ask_supplement(now - timezone.timedelta(minutes=1), waiting, reception)
    old = received(reception, at(2026, 3, 2, 9, 0))  # long overdue
    scope = Scope(today.replace(day=1), today + timezone.timedelta(days=40))
    result = figures_direct(scope)
    assert (result.in_progress_within, result.in_progress_late, result.paused) == (1, 1, 1)
    assert list(dossiers_behind(scope, "in_progress_within")) == [recent]
    assert list(dossiers_behind(scope, "in_progress_late")) == [old]
    check_behind(scope, result)


def test_ratings_and_complaints(officers):
    from ratings import services as ratings
    from ratings.models import Rating

    from .helpers import returned

    glad = returned(officers, at(2026, 3, 2, 9, 0))
    cross = returned(officers, at(2026, 3, 2, 9, 0))
    rude = returned(officers, at(2026, 3, 2, 9, 0))
    ratings.record(glad, 5, source=Rating.Source.PAGE)
    low, _ = ratings.record(cross, 1, source=Rating.Source.PAGE)
    ratings.record(rude, 4, "Cán bộ thái độ không tốt", source=Rating.Source.PAGE)
    ratings.answer(low, officers["leader"], "Xin lỗi ông, tỉnh sẽ kiểm tra.")
    from django.utils import timezone

    today = timezone.localdate()
    scope = Scope(today, today)
    result = figures_direct(scope)
    assert (result.ratings, result.satisfied, result.complaints, result.complaints_answered) == (3, 2, 2, 1)
    assert result.satisfied_share == 2 / 3
    check_kept(scope)
    # A change within the window moves the rating, not a second one.
    ratings.record(glad, 2, source=Rating.Source.PAGE)
    result = check_kept(scope)
    assert (result.ratings, result.satisfied, result.complaints) == (3, 1, 3)


def test_messages_sent_and_failed(officers, settings):
    from django.utils import timezone

    from notifications import delivery
    from notifications.models import Notification, State

    dossier = received(officers["reception"], at(2026, 3, 2, 9, 0))
    row = Notification.objects.get(dossier=dossier)
    today = timezone.localdate()
    scope = Scope(today, today)
    assert delivery.send(row.pk).state == State.NO_CHANNEL  # no Zalo account: not sent, not failed
    assert check_kept(scope).messages_failed == 0
    delivery.requeue_failed(row)
    delivery.reap(now=timezone.now() + timezone.timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS + 1))
    assert Notification.objects.get(pk=row.pk).state == State.FAILED
    result = check_kept(scope)
    assert (result.messages_sent, result.messages_failed) == (0, 1)
    delivery.record_delivery(tracking_id=row.tracking_id)  # it did arrive after all
    result = check_kept(scope)
    assert (result.messages_sent, result.messages_failed) == (1, 0)
