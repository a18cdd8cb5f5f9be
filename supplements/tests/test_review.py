"""Officers decide per item (issue 13.2): accept files, refuse one with a reason, tell the citizen once
everything still missing, and, every item accepted, receive the supplement as for paper."""

import pytest

from dossiers import services as dossier_services
from dossiers.models import Dossier, Status
from dossiers.tests.factories import ProcedureFactory, receive
from notifications.models import Kind, Notification
from offices.tests.factories import OfficerFactory
from supplements import services
from supplements.models import FileState, Source, SupplementFile

from .images import PDF, jpeg, png

pytestmark = pytest.mark.django_db

ITEMS = ("Tờ khai", "Giấy chứng sinh", "Ảnh 4x6")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def supplement_requested(reception, specialist, procedure=None):
    """A dossier the ward's specialist holds, with three items asked for."""
    dossier = receive(reception, procedure or ProcedureFactory(department=specialist.department))
    dossier = dossier_services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    dossier = dossier_services.request_supplement(
        dossier,
        specialist,
        items=[dossier_services.MissingItem(name, f"Chưa nộp {name.lower()}") for name in ITEMS],
    )
    return dossier


def send(dossier, item_name, data, name):
    request = services.open_request(dossier)
    item = request.items.get(name=item_name)
    return services.attach_file(dossier=dossier, data=data, original_name=name, source=Source.LINK, item=item)


@pytest.fixture
def arrived(reception, specialist):
    """Two photos and one PDF arrived for the three items."""
    dossier = supplement_requested(reception, specialist)
    files = {
        "to_khai": send(dossier, "Tờ khai", PDF, "to-khai.pdf"),
        "chung_sinh": send(dossier, "Giấy chứng sinh", jpeg(), "chung-sinh.jpg"),
        "anh": send(dossier, "Ảnh 4x6", png(), "anh.png"),
    }
    return dossier, files


def refusal_messages(dossier):
    return list(Notification.objects.filter(dossier=dossier, kind=Kind.SUPPLEMENT_REFUSED))


def test_accept_two_refuse_one_sends_exactly_one_message_naming_everything_still_missing(
    arrived, specialist, django_capture_on_commit_callbacks
):
    dossier, files = arrived
    services.accept_files([files["to_khai"], files["chung_sinh"]], specialist)
    services.refuse_file(files["anh"], specialist, "Ảnh mờ, không thấy rõ mặt")
    assert refusal_messages(dossier) == []  # nothing told until the officer finishes the review
    with django_capture_on_commit_callbacks() as queued:
        outcome = services.finish_review(services.open_request(dossier), specialist)
    assert outcome == services.Review.TOLD
    [message] = refusal_messages(dossier)
    assert "Ảnh 4x6 (không chấp nhận: Ảnh mờ, không thấy rõ mặt)" in message.text
    assert "Tờ khai" not in message.text and "Giấy chứng sinh" not in message.text  # accepted: not missing
    assert dossier.code in message.text and specialist.full_name in message.text
    assert len(queued) == 1  # delivered by the existing delivery, after the commit
    # Told once: finishing again tells nothing new.
    assert services.finish_review(services.open_request(dossier), specialist) == services.Review.NOTHING
    assert len(refusal_messages(dossier)) == 1
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT  # the clock stays paused


def test_the_message_names_items_no_file_answers_yet_with_their_reason(reception, specialist):
    dossier = supplement_requested(reception, specialist)
    photo = send(dossier, "Ảnh 4x6", png(), "anh.png")
    services.refuse_file(photo, specialist, "Không phải ảnh 4x6")
    services.finish_review(services.open_request(dossier), specialist)
    [message] = refusal_messages(dossier)
    for expected in (
        "Tờ khai (Chưa nộp tờ khai)",
        "Giấy chứng sinh (Chưa nộp giấy chứng sinh)",
        "Ảnh 4x6 (không chấp nhận: Không phải ảnh 4x6)",
    ):
        assert expected in message.text


def test_a_refusal_needs_a_reason(arrived, specialist):
    dossier, files = arrived
    with pytest.raises(dossier_services.InvalidInput, match="lý do"):
        services.refuse_file(files["anh"], specialist, "   ")
    assert SupplementFile.objects.get(pk=files["anh"].pk).state == FileState.RECEIVED


def test_the_citizen_sends_again_and_all_accepted_receives_the_supplement_with_a_new_date(
    arrived, specialist, django_capture_on_commit_callbacks
):
    dossier, files = arrived
    services.accept_files([files["to_khai"], files["chung_sinh"]], specialist)
    services.refuse_file(files["anh"], specialist, "Ảnh mờ")
    services.finish_review(services.open_request(dossier), specialist)
    # The citizen may send again: the request is still open.
    again = send(dossier, "Ảnh 4x6", png(size=(60, 80)), "anh-moi.png")
    assert again.state == FileState.RECEIVED
    paused_at = Dossier.objects.get(pk=dossier.pk).paused_at
    assert paused_at is not None
    services.accept_files([again], specialist)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.finish_review(services.open_request(dossier), specialist) == services.Review.RECEIVED
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS and dossier.paused_at is None  # the clock resumes
    request = dossier.supplement_requests.get()
    assert request.received_at is not None and request.appointment_after == dossier.appointment_date
    event = dossier.events.order_by("-created_at", "-id").first()
    assert event.action == "receive_supplement" and event.actor == specialist
    assert "3 tệp" in event.internal_note
    # The citizen is told the new date by the existing new-appointment message; no second refusal message.
    new_date = Notification.objects.get(dossier=dossier, kind=Kind.NEW_APPOINTMENT)
    assert f"{dossier.appointment_date:%d/%m/%Y}" in new_date.text
    assert len(refusal_messages(dossier)) == 1
    # Every item asked for is now among the dossier's papers, marked as supplied.
    assert set(dossier.components.filter(added_by_supplement=True).values_list("name", flat=True)) == set(ITEMS)


def test_paper_at_the_counter_still_works_and_ends_the_online_review(arrived, reception, specialist):
    dossier, files = arrived
    dossier_services.receive_supplement(dossier, reception)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS
    with pytest.raises(dossier_services.ActionNotAllowed, match="không còn chờ bổ sung"):
        services.accept_files([files["anh"]], specialist)
    # The files sent are kept (still shown on the dossier's page), undecided.
    assert SupplementFile.objects.filter(dossier=dossier, state=FileState.RECEIVED).count() == 3


@pytest.mark.parametrize("who", ["leader_elsewhere", "specialist_elsewhere", "province_admin", "staff_only"])
def test_officers_without_the_right_cannot_accept_or_refuse(arrived, other_department, who):
    dossier, files = arrived
    officer = {
        "leader_elsewhere": lambda: OfficerFactory(role="leader", department=other_department),
        "specialist_elsewhere": lambda: OfficerFactory(role="specialist", department=other_department),
        "province_admin": lambda: OfficerFactory(role="province_admin", department=other_department),
        "staff_only": lambda: dossier_services.SYSTEM,  # never the system either
    }[who]()
    with pytest.raises(dossier_services.ActionForbidden):
        services.accept_files([files["to_khai"]], officer)
    with pytest.raises(dossier_services.ActionForbidden):
        services.refuse_file(files["anh"], officer, "Không rõ")
    with pytest.raises(dossier_services.ActionForbidden):
        services.finish_review(services.open_request(dossier), officer)
    assert set(SupplementFile.objects.filter(dossier=dossier).values_list("state", flat=True)) == {FileState.RECEIVED}
    assert refusal_messages(dossier) == []


def test_the_counter_may_review_as_it_may_receive_paper(arrived, reception):
    dossier, files = arrived
    assert services.may_review(reception, dossier)
    services.accept_files(list(files.values()), reception)
    assert services.finish_review(services.open_request(dossier), reception) == services.Review.RECEIVED


def test_a_decision_on_a_file_someone_already_decided_is_refused_as_stale(arrived, specialist, reception):
    dossier, files = arrived
    services.accept_files([files["anh"]], specialist)
    with pytest.raises(dossier_services.StaleDossier, match="vừa được xem xét"):
        services.refuse_file(files["anh"], reception, "Ảnh mờ")
    with pytest.raises(dossier_services.StaleDossier):
        services.accept_files([files["anh"], files["to_khai"]], reception)
    assert SupplementFile.objects.get(pk=files["to_khai"].pk).state == FileState.RECEIVED  # all or nothing
    with pytest.raises(dossier_services.StaleDossier, match="vừa được người khác cập nhật"):
        services.accept_files([files["to_khai"]], reception, expected_version=dossier.version - 1)
