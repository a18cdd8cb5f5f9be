"""The kept figures equal the direct count after any sequence of actions (issue 14).

Random sequences of real service calls on several dossiers — counter and online intake, refusal,
hand-overs, supplements asked and brought (resume and restart procedures), fees, postponements,
results signed and returned, withdrawals, stops, all at back-dated times — plus ratings (given,
changed, answered) and messages' state changes (given up, re-sent, confirmed by a receipt). Then, for
several random scopes (periods in the past, ending today or later; any point, department, procedure),
`figures(scope)` == `figures_direct(scope)` and so is every breakdown. Derandomized in CI (conftest's
"ci" profile); HYPOTHESIS_PROFILE=explore searches afresh.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossiers import services
from dossiers.models import Channel, Dossier, Status, SupplementMode
from dossiers.tests.factories import ProcedureFactory
from notifications import delivery
from notifications.models import Notification
from offices.tests.factories import DepartmentFactory, OfficerFactory
from ratings import services as ratings
from ratings.models import Rating
from reports import figures as kept
from reports.indicators import Scope

from .checks import check_kept
from .helpers import registered

pytestmark = pytest.mark.django_db

DOSSIERS = 5
ACTIONS = (
    "receive",
    "register",
    "accept",
    "refuse",
    "hand_over",
    "request_supplement",
    "receive_supplement",
    "request_fees",
    "record_fees_paid",
    "postpone",
    "mark_result_ready",
    "return_result",
    "withdraw",
    "stop",
    "rate",
    "answer",
    "message_fails",
    "message_resent",
    "message_arrives",
)

steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, DOSSIERS - 1),  # which dossier
        st.integers(0, 2),  # which procedure / channel / score
        st.one_of(st.integers(0, 90), st.integers(0, 4 * 24 * 60)),  # minutes to the next action
    ),
    min_size=5,
    max_size=45,
)
scopes = st.lists(
    st.tuples(
        st.integers(-75, 5),  # start, in days from today
        st.integers(0, 40),  # length
        st.integers(0, 3),  # filter: none, point, department, procedure
        st.integers(0, 2),
    ),
    min_size=2,
    max_size=4,
)


@pytest.fixture
def world(officers, reception_desk):
    second_desk = DepartmentFactory(code="BPMC-2", name="Bộ phận một cửa số 2", is_reception=True)
    second_counter = OfficerFactory(role="reception", department=second_desk, user__username="motcua2.test")
    ward = officers["specialist"].department
    other = DepartmentFactory(code="SO-TP", name="Sở Tư pháp")
    procedures = [
        ProcedureFactory(processing_days=0, department=ward, field="Hộ tịch"),
        ProcedureFactory(processing_days=2, department=ward, field="Chứng thực", on_supplement=SupplementMode.RESTART),
        ProcedureFactory(processing_days=4, department=other, field="Hộ tịch"),
    ]
    return {
        "counters": [officers["reception"], second_counter],
        "officers": [officers["reception"], second_counter, officers["specialist"], officers["leader"]],
        "specialist": officers["specialist"],
        "leader": officers["leader"],
        "procedures": procedures,
        "points": [reception_desk.pk, second_desk.pk, ward.pk],
        "departments": [ward.pk, other.pk, reception_desk.pk],
    }


def _try(action, dossier, world, choice, now):
    """Perform `action` as the first officer allowed to; a refused or impossible action changes nothing."""
    for officer in world["officers"]:
        kwargs = _arguments(action, dossier, world, choice, now)
        if kwargs is None:
            return
        try:
            with services.backdated(now):
                services.ACTION_FUNCTIONS[action](Dossier.objects.get(pk=dossier.pk), officer, **kwargs)
            return
        except services.ActionForbidden:
            continue
        except services.WorkflowError:
            return


def _arguments(action, dossier, world, choice, now):
    current = Dossier.objects.get(pk=dossier.pk)
    if action == "refuse":
        return {"reason": "Sai thủ tục"}
    if action == "hand_over":
        return {"to_department": world["specialist"].department, "to_officer": world["specialist"]}
    if action == "request_supplement":
        return {"items": [services.MissingItem("Tờ khai", "Thiếu chữ ký")]}
    if action == "request_fees":
        return {"amount": 50000}
    if action == "postpone":
        if current.appointment_date is None:
            return None
        from dossiers.calendars import current_calendar

        return {
            "new_date": current_calendar().add_working_days(current.appointment_date, 1 + choice),
            "reason": "Cần xác minh",
        }
    if action == "mark_result_ready":
        return {"result": "Đã cấp"}
    if action in ("withdraw", "stop"):
        return {"reason": "Theo đơn"}
    return {}


def _message(dossier):
    return Notification.objects.filter(dossier=dossier).order_by("pk").first()


def run(plan, world):
    now = timezone.now() - timedelta(days=70)
    dossiers: list = [None] * DOSSIERS
    for action, index, choice, gap in plan:
        now = min(now + timedelta(minutes=gap), timezone.now() - timedelta(minutes=1))
        dossier = dossiers[index]
        if action in ("receive", "register"):
            if dossier is not None:
                continue
            procedure = world["procedures"][choice]
            if action == "receive":
                with services.backdated(now):
                    dossiers[index] = services.receive_dossier(
                        officer=world["counters"][choice % 2],
                        procedure=procedure,
                        applicant=services.Applicant(name="Lê Văn Cường", phone="0905123458"),
                        components=[services.SubmittedComponent(c.name, c.kind) for c in procedure.components.all()],
                    )
            else:
                dossiers[index] = registered(now, procedure, channel=(Channel.ONLINE, Channel.POSTAL)[choice % 2])
            continue
        if dossier is None:
            continue
        if action == "accept":
            try:
                with services.backdated(now):
                    services.accept(dossier, world["counters"][choice % 2])
            except services.WorkflowError:
                pass
        elif action in ("rate", "answer"):
            _rate(action, dossier, world, choice)
        elif action.startswith("message_"):
            _message_changes(action, dossier)
        else:
            _try(action, dossier, world, choice, now)


def _rate(action, dossier, world, choice):
    if action == "rate":
        try:
            ratings.record(dossier, (1, 4, 5)[choice], source=Rating.Source.PAGE)
        except ratings.RatingRefused:
            pass
        return
    rating = Rating.objects.filter(dossier=dossier).first()
    if rating is not None:
        ratings.answer(rating, world["leader"], "Cảm ơn góp ý.")


def _message_changes(action, dossier):
    row = _message(dossier)
    if row is None:
        return
    if action == "message_fails":
        if row.attempts == 0:
            delivery.send(row.pk)  # no Zalo OA: no channel (attempt 1)
            row.refresh_from_db()
            delivery.requeue_failed(row)
        delivery.reap(now=timezone.now() + timedelta(days=3))  # past its deadline: given up
    elif action == "message_resent":
        delivery.requeue_failed(row)
    else:
        delivery.record_delivery(tracking_id=row.tracking_id)


def scope_of(spec, world):
    start, length, which, choice = spec
    today = timezone.localdate()
    scope = Scope(today + timedelta(days=start), today + timedelta(days=start + length))
    if which == 1:
        return Scope(scope.start, scope.end, point=world["points"][choice])
    if which == 2:
        return Scope(scope.start, scope.end, department=world["departments"][choice])
    if which == 3:
        return Scope(scope.start, scope.end, procedure=world["procedures"][choice].pk)
    return scope


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(plan=steps, specs=scopes)
def test_kept_figures_equal_the_direct_count_after_any_actions(world, plan, specs):
    with transaction.atomic():
        run(plan, world)
        for spec in specs:
            check_kept(scope_of(spec, world))
        # A rebuild from scratch finds the same counters the events kept.
        before = snapshot()
        kept.rebuild(reset=True)
        assert snapshot() == before
        transaction.set_rollback(True)


def snapshot():
    from reports.models import Figure

    kept.fold()
    return sorted(Figure.objects.exclude(n=0).values_list(*kept.KEY_FIELDS, "n"))


def test_every_status_is_reached(world):
    """The strategy's actions reach every status (the property test is not vacuous)."""
    plan = [
        ("receive", 0, 0, 10),
        ("hand_over", 0, 0, 10),
        ("request_supplement", 0, 0, 10),
        ("receive_supplement", 0, 0, 2000),
        ("request_fees", 0, 0, 10),
        ("record_fees_paid", 0, 0, 10),
        ("mark_result_ready", 0, 0, 10),
        ("return_result", 0, 0, 10),
        ("rate", 0, 0, 10),
        ("answer", 0, 0, 10),
        ("register", 1, 1, 10),
        ("refuse", 1, 0, 10),
        ("register", 2, 2, 10),
        ("accept", 2, 1, 10),
        ("withdraw", 2, 0, 10),
        ("receive", 3, 2, 10),
        ("hand_over", 3, 0, 10),
        ("stop", 3, 0, 10),
        ("message_fails", 3, 0, 10),
        ("receive", 4, 1, 10),
        ("message_fails", 4, 0, 10),
        ("message_arrives", 4, 0, 10),
    ]
    run(plan, world)
    statuses = set(Dossier.objects.values_list("status", flat=True))
    assert statuses == {Status.RETURNED, Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.ACCEPTED}
    today = timezone.localdate()
    result = check_kept(Scope(today - timedelta(days=80), today))
    assert result.ratings == result.complaints == result.complaints_answered == 1
    assert result.messages_failed >= 1 and result.messages_sent == 1
    assert result.durations and result.received == 4 and result.refused == 1
