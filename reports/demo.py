"""A demo province's last weeks of work, so its dashboard and report have something to show.

Called by `seed_demo` inside the province's schema, after the demo dossiers. Every dossier goes through
`dossiers.services` (back-dated), so the figures are kept by the same events as real work: counter,
online and postal intake, hand-over to the department that handles the procedure, a few supplements,
results early, on time and late, withdrawals and stops, returns and the citizens' ratings. The story is
drawn from a generator seeded by the province's slug: the same province gets the same history.
"""

import random
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossiers import services
from dossiers.calendars import current_calendar
from dossiers.models import Channel, Dossier, Procedure
from offices.models import Officer
from offices.services import ensure_officer
from ratings import services as ratings

PER_DAY = (2, 5)  # dossiers received per working day
HISTORY_MARK = "lịch sử mẫu"  # the internal note on every history intake: seeding twice adds nothing

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quang", "Thu", "Xuân")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Lan", "Linh", "Long", "Mai")
STREETS = ("Trần Phú", "Lê Duẩn", "Nguyễn Huệ", "Hùng Vương", "Bạch Đằng", "Phan Chu Trinh", "Quang Trung")

# How a history dossier ends, with its weight: most early or on time, as in the provinces' reports.
OUTCOMES = (
    ("early", 52),
    ("on_time", 18),
    ("late", 10),
    ("supplement", 10),
    ("withdraw", 4),
    ("stop", 3),
    ("refuse", 3),
)
SCORES = ((5, 55), (4, 27), (3, 9), (2, 5), (1, 4))
COMMENTS = {
    1: "Phải đi lại nhiều lần, cán bộ hẹn không đúng ngày.",
    2: "Chờ lâu, không được báo trước khi trễ hẹn.",
    5: "Cán bộ hướng dẫn tận tình, trả kết quả sớm.",
}


def _weighted(rng, pairs):
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _leaders(departments):
    """A leader (who signs results) for each department that handles procedures but has none."""
    leaders = {}
    for department in departments:
        officer = (
            Officer.objects.filter(department=department, user__groups__name="Lãnh đạo").order_by("id").first()
            or ensure_officer(
                username=f"lanhdao.{department.code.lower()}",
                full_name=f"Lãnh đạo {department.short_name or department.name}",
                role="leader",
                department=department,
                title="Lãnh đạo phòng ban",
            )[0]
        )
        leaders[department.pk] = officer
    return leaders


class _Clock:
    def __init__(self, calendar, today):
        self.calendar = calendar
        self.today = today

    def at(self, day, hour, minute=0):
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))

    def later(self, day, n):
        return self.calendar.add_working_days(day, n) if n else day


def seed_history(province, weeks=None):
    """Create the history unless it is there. Returns how many dossiers it added."""
    if Dossier.objects.filter(events__internal_note=HISTORY_MARK).exists():
        return 0
    weeks = settings.DEMO_HISTORY_WEEKS if weeks is None else weeks
    rng = random.Random(f"history-{province.slug}")  # noqa: S311 -- demo data, reproducible on purpose
    calendar = current_calendar()
    today = timezone.localdate()
    clock = _Clock(calendar, today)
    counter = [o for o in Officer.objects.filter(user__username__in=("motcua", "motcua2")).order_by("id")]
    procedures = list(
        Procedure.objects.filter(is_active=True).select_related("department").prefetch_related("components")
    )
    if not counter or not procedures:
        return 0
    leaders = _leaders({p.department for p in procedures})
    added = 0
    day = today - timedelta(weeks=weeks)
    with transaction.atomic():
        while day < today:
            if calendar.is_working_day(day):
                for _ in range(rng.randint(*PER_DAY)):
                    _one(rng, clock, day, rng.choice(procedures), rng.choice(counter), leaders)
                    added += 1
            day += timedelta(days=1)
    return added


def _applicant(rng):
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    id_number = f"0{rng.randint(10, 96):02d}{rng.randint(0, 1)}{rng.randint(60, 99):02d}{rng.randint(0, 999999):06d}"
    phone = f"09{rng.randint(10000000, 99999999)}"
    address = f"{rng.randint(1, 200)} {rng.choice(STREETS)}"
    return services.Applicant(name=name, id_number=id_number, phone=phone, address=address)


def _one(rng, clock, day, procedure, desk, leaders):
    components = [services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()]
    channel = _weighted(rng, ((Channel.COUNTER, 70), (Channel.ONLINE, 25), (Channel.POSTAL, 5)))
    outcome = _weighted(rng, OUTCOMES)
    start = clock.at(day, rng.randint(7, 14), rng.choice((0, 15, 30, 45)))
    person = _applicant(rng)
    with services.backdated(start):
        if channel == Channel.COUNTER:
            dossier = services.receive_dossier(
                officer=desk, procedure=procedure, applicant=person, components=components, internal_note=HISTORY_MARK
            )
        else:
            dossier = services.register_online(
                procedure=procedure, applicant=person, components=components, channel=channel
            )
    if channel != Channel.COUNTER:
        with services.backdated(start + timedelta(minutes=40)):
            if outcome == "refuse":
                services.refuse(
                    dossier, desk, reason="Hồ sơ không thuộc thẩm quyền giải quyết.", internal_note=HISTORY_MARK
                )
                return
            dossier = services.accept(dossier, desk, internal_note=HISTORY_MARK)
    elif outcome == "refuse":
        outcome = "early"
    leader = leaders[procedure.department_id]
    with services.backdated(start + timedelta(hours=1)):
        dossier = services.hand_over(dossier, desk, to_department=procedure.department, to_officer=leader)
    dossier = Dossier.objects.get(pk=dossier.pk)
    due = dossier.due_date
    if outcome in ("withdraw", "stop"):
        when = clock.later(day, rng.randint(1, 3))
        if when >= clock.today:
            return
        with services.backdated(clock.at(when, 10)):
            if outcome == "withdraw":
                services.withdraw(dossier, desk, reason="Công dân xin rút hồ sơ.")
            else:
                services.stop(dossier, leader, reason="Hồ sơ không đủ điều kiện giải quyết.")
        return
    if outcome == "supplement":
        asked = clock.later(day, 1)
        back = clock.later(asked, rng.randint(1, 4))
        if asked >= clock.today:
            return
        with services.backdated(clock.at(asked, 9)):
            dossier = services.request_supplement(
                dossier, leader, items=[services.MissingItem("Bản sao giấy tờ tùy thân", "Chưa được chứng thực")]
            )
        if back >= clock.today:
            return
        with services.backdated(clock.at(back, 9)):
            dossier = services.receive_supplement(dossier, desk)
        dossier = Dossier.objects.get(pk=dossier.pk)
        due = dossier.due_date
        outcome = "early" if rng.random() < 0.7 else "on_time"
    room = clock.calendar.working_days_between(day, due)  # working days after the intake day up to the due date
    if outcome == "early" and room > 0:
        done = clock.later(day, rng.randint(0, room - 1))
    elif outcome in ("early", "on_time"):
        done = due
    else:
        done = clock.later(due, rng.randint(1, 4))
    if done >= clock.today:
        return  # still in progress today
    with services.backdated(clock.at(done, 15)):
        dossier = services.mark_result_ready(dossier, leader, result=f"Kết quả giải quyết {procedure.name}"[:300])
    returned = clock.later(done, rng.choice((0, 0, 1, 2)))
    if returned >= clock.today:
        return
    with services.backdated(clock.at(returned, 16)):
        dossier = services.return_result(dossier, desk)
    if rng.random() < 0.6:
        score = _weighted(rng, SCORES)
        with services.backdated(clock.at(returned, 17)):
            ratings.record(dossier, score, COMMENTS.get(score, ""), source="page")


def seed(province):
    seed_history(province)
