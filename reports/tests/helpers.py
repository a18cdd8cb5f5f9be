"""Hand-made dossiers for the indicators' tests: every change through dossiers.services."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dossiers import services
from dossiers.models import Channel, Dossier
from dossiers.tests.factories import ProcedureFactory, all_components

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args):
    return datetime(*args, tzinfo=VN)


def received(officer, when, procedure=None, channel=Channel.COUNTER, days=3, **procedure_fields):
    procedure = procedure or ProcedureFactory(processing_days=days, **procedure_fields)
    with services.backdated(when):
        if channel == Channel.COUNTER:
            return services.receive_dossier(
                officer=officer,
                procedure=procedure,
                applicant=services.Applicant(name="Nguyễn Văn An", phone="0905123456"),
                components=all_components(procedure),
            )
        dossier = services.register_online(
            procedure=procedure,
            applicant=services.Applicant(name="Trần Thị Bình", phone="0905123457"),
            components=all_components(procedure),
            channel=channel,
        )
        return services.accept(dossier, officer)


def registered(when, procedure=None, channel=Channel.ONLINE, **procedure_fields):
    procedure = procedure or ProcedureFactory(**procedure_fields)
    with services.backdated(when):
        return services.register_online(
            procedure=procedure,
            applicant=services.Applicant(name="Trần Thị Bình", phone="0905123457"),
            components=all_components(procedure),
            channel=channel,
        )


def step(when, action, dossier, officer, **kwargs):
    with services.backdated(when):
        return services.ACTION_FUNCTIONS[action](Dossier.objects.get(pk=dossier.pk), officer, **kwargs)


def to_department(when, dossier, reception, specialist):
    return step(when, "hand_over", dossier, reception, to_department=specialist.department, to_officer=specialist)


def sign(when, dossier, leader):
    return step(when, "mark_result_ready", dossier, leader, result="Đã cấp")


def done(dossier, officers, handed_at, signed_at):
    to_department(handed_at, dossier, officers["reception"], officers["specialist"])
    return sign(signed_at, dossier, officers["leader"])


def ask_supplement(when, dossier, officer):
    return step(when, "request_supplement", dossier, officer, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")])


def returned(officers, when):
    """Received at `when`, handed to the ward, signed and returned the next minutes."""
    from datetime import timedelta

    dossier = received(officers["reception"], when)
    done(dossier, officers, when + timedelta(minutes=5), when + timedelta(minutes=10))
    step(when + timedelta(minutes=15), "return_result", dossier, officers["reception"])
    return Dossier.objects.get(pk=dossier.pk)
