"""The aggregates under attack: repeated and late refreshes, rolled-back actions, a rebuild beside
the kept figures, a message whose figures refresh crashed."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from dossiers import services
from dossiers.events import dossier_event
from dossiers.models import Dossier
from notifications import delivery
from notifications.models import Notification, State
from offices.roles import LEADER, PROVINCE_ADMIN, RECEPTION, SPECIALIST
from ratings import services as ratings
from ratings.models import Rating
from reports import figures as kept
from reports.indicators import Scope, figures, figures_direct
from reports.models import Contribution, Figure

from .checks import check_kept
from .helpers import ask_supplement, at, done, received, returned, step

pytestmark = pytest.mark.django_db

MARCH = Scope(at(2026, 3, 1).date(), at(2026, 3, 31).date())


def snapshot():
    kept.fold()
    return sorted(Figure.objects.exclude(n=0).values_list(*kept.KEY_FIELDS, "n"))


@pytest.fixture
def history(officers):
    reception = officers["reception"]
    first = received(reception, at(2026, 3, 2, 9, 0))
    done(first, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 4, 9, 0))
    second = received(reception, at(2026, 3, 3, 9, 0))
    ask_supplement(at(2026, 3, 4, 9, 0), second, reception)
    third = returned(officers, at(2026, 3, 5, 9, 0))
    ratings.record(third, 2, source=Rating.Source.PAGE)
    return [first, second, third]


def test_refreshing_twice_late_or_out_of_order_changes_nothing(history):
    before = snapshot()
    contributions = sorted(Contribution.objects.values_list("kind", "object_id", "entries"))
    first, second, third = history
    for kind, pk in [
        (kept.DOSSIER, second.pk),
        (kept.DOSSIER, first.pk),
        (kept.DOSSIER, second.pk),
        (kept.RATING, third.rating.pk),
        (kept.DOSSIER, third.pk),
        (kept.RATING, third.rating.pk),
    ]:
        assert kept.refresh(kind, pk) is False
    assert snapshot() == before
    assert sorted(Contribution.objects.values_list("kind", "object_id", "entries")) == contributions
    # A refresh of a row that does not exist (or no longer counts) contributes nothing.
    assert kept.refresh(kept.DOSSIER, 10**9) is False
    assert snapshot() == before


def test_a_refresh_missed_is_caught_up_by_the_next(history, officers):
    """A change whose refresh did not run (written around the service) is counted by the next refresh."""
    first = history[0]
    Dossier.objects.filter(pk=first.pk).update(grade="late")  # behind the figures' back
    assert figures(MARCH).done_late != figures_direct(MARCH).done_late
    assert kept.refresh(kept.DOSSIER, first.pk) is True
    check_kept(MARCH)


def test_an_action_that_fails_and_rolls_back_leaves_the_figures_unchanged(history, officers):
    before, second = snapshot(), history[1]

    def explode(sender, event, dossier, **kwargs):
        raise RuntimeError("after the figures were refreshed")

    dossier_event.connect(explode, dispatch_uid="test.explode")  # runs after the reports' receiver
    try:
        with pytest.raises(RuntimeError):
            step(at(2026, 3, 9, 9, 0), "receive_supplement", second, officers["reception"])
        with pytest.raises(RuntimeError):
            received(officers["reception"], at(2026, 3, 9, 9, 0))
    finally:
        dossier_event.disconnect(dispatch_uid="test.explode")
    # A refused action (wrong officer) never reaches the figures either.
    with pytest.raises(services.WorkflowError):
        step(at(2026, 3, 9, 9, 0), "mark_result_ready", second, officers["reception"], result="x")
    assert snapshot() == before
    check_kept(MARCH)


def test_rebuild_figures_of_a_province_equals_the_kept_ones(history, danang):
    kept_rows = snapshot()
    assert kept_rows
    call_command("rebuild_figures", province=["danang"], reset=True)
    assert snapshot() == kept_rows
    call_command("rebuild_figures", province=["danang"])  # again, settling: nothing to change
    assert snapshot() == kept_rows
    check_kept(MARCH)


def test_rebuild_heals_a_source_whose_refresh_was_missed(history):
    first = history[0]
    Dossier.objects.filter(pk=first.pk).update(grade="late")
    assert kept.rebuild() == {kept.DOSSIER: 1, kept.RATING: 0, kept.MESSAGE: 0}
    check_kept(MARCH)


def test_a_message_whose_figures_refresh_crashed_is_healed_by_reconcile(officers, monkeypatch, settings):
    dossier = received(officers["reception"], at(2026, 3, 2, 9, 0))
    row = Notification.objects.get(dossier=dossier)
    delivery.send(row.pk)  # no OA: no channel
    row.refresh_from_db()
    delivery.requeue_failed(row)
    today = timezone.localdate()
    scope = Scope(today, today)
    real = kept.contribution

    def crash(kind, obj):
        if kind == kept.MESSAGE:
            raise RuntimeError("figures down")
        return real(kind, obj)

    monkeypatch.setattr(kept, "contribution", crash)
    # The message is given up all the same: statistics never stop a message.
    delivery.reap(now=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS + 1))
    assert Notification.objects.get(pk=row.pk).state == State.FAILED
    assert figures_direct(scope).messages_failed == 1
    assert figures(scope).messages_failed == 0
    monkeypatch.setattr(kept, "contribution", real)
    assert kept.reconcile() == 1
    assert check_kept(scope).messages_failed == 1
    assert kept.reconcile() == 0  # nothing left to heal


def test_two_refreshes_of_one_dossier_in_separate_transactions_serialise(history):
    """The contribution row is the lock: a second transaction's refresh sees the first's entries."""
    first = history[0]
    with transaction.atomic():
        assert kept.refresh(kept.DOSSIER, first.pk) is False
        with transaction.atomic():
            assert kept.refresh(kept.DOSSIER, first.pk) is False
    check_kept(MARCH)


def test_leaders_and_province_admins_may_view_reports():
    assert "reports.view_reports" in LEADER.permissions
    assert "reports.view_reports" in PROVINCE_ADMIN.permissions
    assert "reports.view_reports" not in RECEPTION.permissions
    assert "reports.view_reports" not in SPECIALIST.permissions


def test_the_leader_has_the_permission_in_the_province(officers):
    leader = officers["leader"].user
    assert leader.has_perm("reports.view_reports")
    assert not officers["reception"].user.has_perm("reports.view_reports")


def test_a_calendar_change_settles_the_figures_again(history, django_capture_on_commit_callbacks, monkeypatch):
    from dossiers.models import WorkingDayOverride
    from reports import tasks

    queued = []
    monkeypatch.setattr(tasks.rebuild_figures, "delay", lambda: queued.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        # A day off inside the first dossier's processing: its processing days change.
        WorkingDayOverride.objects.create(date=at(2026, 3, 3).date(), is_working_day=False, reason="Nghỉ bù")
    assert queued == [True]
    assert figures(MARCH).durations != figures_direct(MARCH).durations  # until the rebuild has run
    tasks.rebuild_figures()
    check_kept(MARCH)


def test_moving_a_procedure_to_another_department_settles_the_figures_again(
    history, other_department, django_capture_on_commit_callbacks, monkeypatch
):
    from reports import tasks

    queued = []
    monkeypatch.setattr(tasks.rebuild_figures, "delay", lambda: queued.append(True))
    procedure = history[0].procedure
    with django_capture_on_commit_callbacks(execute=True):
        procedure.name = "Tên mới"
        procedure.save()
    assert queued == []  # a change that moves nothing
    with django_capture_on_commit_callbacks(execute=True):
        procedure.department = other_department
        procedure.save()
    assert queued == [True]
    tasks.rebuild_figures()
    check_kept(MARCH)
    assert check_kept(Scope(MARCH.start, MARCH.end, department=other_department.pk)).done == 1
