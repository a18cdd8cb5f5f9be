"""Demo catalogue and dossiers for one province (called by `seed_demo` inside its schema).

The dossiers are entered through the same services officers use, back-dated so that the worklists
are alive on first open: every status, some due soon, some overdue, early/on time/late results.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from offices.models import Department, Officer

from . import services
from .calendars import current_calendar
from .catalogue import PROCEDURES
from .models import Dossier, Procedure, ProcedureComponent

APPLICANTS = (
    ("Nguyễn Văn Hùng", "048085001231", "0912345601", "15 Trần Phú"),
    ("Trần Thị Hoa", "048190002342", "0912345602", "22 Lê Duẩn"),
    ("Lê Văn Sơn", "048078003453", "0912345603", "8 Nguyễn Huệ"),
    ("Phạm Thị Lan", "048195004564", "0912345604", "41 Hùng Vương"),
    ("Hoàng Minh Tuấn", "048088005675", "0912345605", "3 Bạch Đằng"),
    ("Võ Thị Thu Hà", "048192006786", "0912345606", "17 Quang Trung"),
    ("Đặng Quốc Bảo", "048080007897", "0912345607", "56 Lý Thường Kiệt"),
    ("Bùi Thị Ngọc", "048197008908", "0912345608", "90 Hai Bà Trưng"),
    ("Huỳnh Văn Tài", "048075009019", "0912345609", "12 Phan Chu Trinh"),
    ("Ngô Thị Mỹ", "048199010120", "0912345610", "7 Điện Biên Phủ"),
    ("Dương Văn Khánh", "048083011231", "0912345611", "25 Võ Văn Tần"),
    ("Lý Thị Kim", "048191012342", "0912345612", "61 Nguyễn Trãi"),
    ("Trịnh Văn Long", "048079013453", "0912345613", "33 Pasteur"),
    ("Mai Thị Xuân", "048194014564", "0912345614", "4 Tôn Đức Thắng"),
    ("Phan Văn Đạt", "048086015675", "0912345615", "19 Lê Lợi"),
)


def seed_catalogue():
    departments = {d.code: d for d in Department.objects.all()}
    for data in PROCEDURES:
        procedure, created = Procedure.objects.get_or_create(
            code=data["code"],
            defaults={
                "name": data["name"],
                "field": data["field"],
                "department": departments[data["department"]],
                "processing_days": data["processing_days"],
                "fee": data["fee"],
                "fee_note": data["fee_note"],
                "on_supplement": data["on_supplement"],
                "legal_basis": data["legal_basis"],
                "result": data["result"],
            },
        )
        if created:
            ProcedureComponent.objects.bulk_create(
                [
                    ProcedureComponent(
                        procedure=procedure, position=i, name=name, kind=kind, count=count, required=required
                    )
                    for i, (name, kind, count, required) in enumerate(data["components"], start=1)
                ]
            )


def _working_days_ago(calendar, n, at=time(9, 0)):
    day = timezone.localdate()
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, at))


class _Story:
    """One demo dossier: received some working days ago, then a few steps, each back-dated."""

    def __init__(self, officers, calendar):
        self.officers = officers
        self.calendar = calendar

    def receive(self, code, applicant, days_ago, online=False, by="motcua", point=None):
        procedure = Procedure.objects.get(code=code)
        name, id_number, phone, address = applicant
        components = [services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()]
        person = services.Applicant(name=name, id_number=id_number, phone=phone, address=address)
        with services.backdated(_working_days_ago(self.calendar, days_ago)):
            if online:
                return services.register_online(
                    procedure=procedure, applicant=person, components=components, reception_point=point
                )
            return services.receive_dossier(
                officer=self.officers[by], procedure=procedure, applicant=person, components=components
            )

    def then(self, dossier, days_ago, action, username, hour=10, **kwargs):
        with services.backdated(_working_days_ago(self.calendar, days_ago, time(hour, 0))):
            return services.ACTION_FUNCTIONS[action](dossier, self.officers[username], **kwargs)


def seed_dossiers():
    officers = {o.user.username: o for o in Officer.objects.select_related("user", "department")}
    ward = Department.objects.get(code="UBND-PHUONG")
    police = Department.objects.get(code="CAT")
    land = Department.objects.get(code="SNNMT")
    story = _Story(officers, current_calendar())
    people = iter(APPLICANTS)
    ward_officer = {"to_department": ward, "to_officer": officers["chuyenvien"]}
    police_officer = {"to_department": police, "to_officer": officers["chuyenvien.ca"]}

    # 1 Mới đăng ký: an online application waiting at the counter.
    story.receive("1.001193", next(people), 0, online=True)
    # 2 Được tiếp nhận this morning.
    story.receive("1.004873", next(people), 0)
    # 3 Không được tiếp nhận.
    d = story.receive("1.004222", next(people), 2, online=True)
    story.then(d, 1, "refuse", "motcua", reason="Hợp đồng thuê nhà chưa được công chứng, chứng thực.")
    # 4 Đang xử lý, on schedule (police, 10 days).
    d = story.receive("3.000333", next(people), 2)
    story.then(d, 2, "hand_over", "motcua", hour=14, **police_officer)
    # 5 Đang xử lý, due soon (3 days, received 2 working days ago).
    d = story.receive("1.001612", next(people), 2)
    story.then(d, 2, "hand_over", "motcua", hour=11, **ward_officer)
    # 6 Đang xử lý, overdue.
    d = story.receive("1.004873", next(people), 8)
    story.then(d, 8, "hand_over", "motcua", hour=11, **ward_officer)
    # 7 Đang xử lý, overdue, with an apology and a new appointment date (form 04).
    d = story.receive("3.000347", next(people), 9)
    story.then(d, 9, "hand_over", "motcua", hour=11, **police_officer)
    story.then(
        d,
        4,
        "postpone",
        "chuyenvien.ca",
        new_date=current_calendar().add_working_days(timezone.localdate(), 3),
        reason="Chờ xác minh thông tin giấy phép lái xe với cơ sở dữ liệu quốc gia.",
    )
    # 8 Yêu cầu bổ sung (clock paused).
    d = story.receive("1.013225", next(people), 5)
    story.then(d, 5, "hand_over", "motcua", hour=14, **ward_officer)
    story.then(
        d,
        3,
        "request_supplement",
        "chuyenvien",
        items=[
            services.MissingItem("Bản vẽ mặt bằng móng", "Bản vẽ chưa có chữ ký của đơn vị thiết kế"),
            services.MissingItem("Giấy chứng nhận quyền sử dụng đất", "Bản sao chưa được chứng thực"),
        ],
        reason="Đề nghị bổ sung một lần đầy đủ các giấy tờ trên.",
    )
    # 9 Yêu cầu thực hiện nghĩa vụ tài chính.
    d = story.receive("1.013978", next(people), 6)
    story.then(d, 6, "hand_over", "motcua", hour=15, to_department=land)
    story.then(d, 2, "request_fees", "motcua", amount=1_250_000, citizen_note="Lệ phí trước bạ và phí thẩm định hồ sơ.")
    # 10 Rút hồ sơ.
    d = story.receive("1.001612", next(people), 4)
    story.then(d, 1, "withdraw", "motcua", reason="Công dân có đơn xin rút hồ sơ để điều chỉnh ngành nghề.")
    # 11 Dừng xử lý after a supplement request that was never answered.
    d = story.receive("1.004873", next(people), 20)
    story.then(d, 20, "hand_over", "motcua", hour=14, **ward_officer)
    story.then(
        d,
        19,
        "request_supplement",
        "chuyenvien",
        items=[services.MissingItem("Giấy xác nhận tình trạng hôn nhân đã cấp trước đây", "Chưa nộp lại bản cũ")],
    )
    story.then(d, 3, "stop", "lanhdao", reason="Quá thời hạn bổ sung hồ sơ theo phiếu yêu cầu.")
    # 12 Đã xử lý xong, early.
    d = story.receive("1.004873", next(people), 3)
    story.then(d, 3, "hand_over", "motcua", hour=11, **ward_officer)
    story.then(d, 2, "hand_over", "chuyenvien", to_department=ward, to_officer=officers["lanhdao"])
    story.then(d, 1, "mark_result_ready", "lanhdao", result="Giấy xác nhận tình trạng hôn nhân số 45/2026")
    # 13 Đã trả kết quả, on time.
    d = story.receive("1.001612", next(people), 8)
    story.then(d, 8, "hand_over", "motcua", hour=11, **ward_officer)
    story.then(d, 6, "hand_over", "chuyenvien", to_department=ward, to_officer=officers["lanhdao"])
    due = Dossier.objects.get(pk=d.pk).due_date
    days_back = current_calendar().working_days_between(due, timezone.localdate())
    story.then(d, days_back, "mark_result_ready", "lanhdao", hour=9, result="Giấy chứng nhận đăng ký hộ kinh doanh")
    story.then(d, max(days_back - 1, 0), "return_result", "motcua")
    # 14 Đã trả kết quả, late.
    d = story.receive("1.004873", next(people), 12)
    story.then(d, 12, "hand_over", "motcua", hour=11, **ward_officer)
    story.then(d, 4, "hand_over", "chuyenvien", to_department=ward, to_officer=officers["lanhdao"])
    story.then(d, 3, "mark_result_ready", "lanhdao", result="Giấy xác nhận tình trạng hôn nhân số 39/2026")
    story.then(d, 2, "return_result", "motcua")
    # 15 Được tiếp nhận at the counter, same-day procedure.
    story.receive("2.000815", next(people), 0)
    _seed_ward_points(story, officers, ward)


def _seed_ward_points(story, officers, ward):
    """The wards' reception points (offices.demo): a dossier received at the first ward's counter,
    handled by the ward's People's Committee and waiting there for its return; one applied online
    choosing the second ward; one received at the second ward this morning."""
    if "motcua.p1" not in officers or "motcua.p2" not in officers:
        return
    people = iter(APPLICANTS[:3])
    d = story.receive("1.004873", next(people), 4, by="motcua.p1")
    story.then(d, 4, "hand_over", "motcua.p1", hour=11, to_department=ward, to_officer=officers["chuyenvien"])
    story.then(d, 3, "hand_over", "chuyenvien", to_department=ward, to_officer=officers["lanhdao"])
    story.then(d, 1, "mark_result_ready", "lanhdao", result="Giấy xác nhận tình trạng hôn nhân số 51/2026")
    story.receive("1.001193", next(people), 0, online=True, point=officers["motcua.p2"].department)
    story.receive("2.000815", next(people), 0, by="motcua.p2")


def restrict_police_procedures_to_the_centre():
    """Demo of Procedure.reception_points: the police's procedures are received at the province's centre
    only (the wards' counters refuse them); every other procedure at any point."""
    from offices.points import province_centre

    centre = province_centre()
    if centre is None or centre.point_kind != "province_centre":
        return
    for procedure in Procedure.objects.filter(department__code="CAT"):
        if not procedure.reception_points.exists():
            procedure.reception_points.add(centre)


def seed(province):
    seed_catalogue()
    restrict_police_procedures_to_the_centre()
    if not Dossier.objects.exists():
        with transaction.atomic():
            seed_dossiers()
