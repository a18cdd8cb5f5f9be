"""Officer notes: what the citizen may read and what stays among officers.

The attack: an officer writes "Trình lãnh đạo ký, gọi anh Tuấn 0905…" on a hand-over, and a citizen
(or anyone holding the QR code) reads it on the public status page, through the lookup API or the
Zalo chat. Internal is the default; only citizen notes and the reasons the law says the citizen
must be told ever leave the back office."""

import json

import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from dossiers import printing, services
from dossiers.calendars import current_calendar
from dossiers.models import DossierEvent
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from notifications.models import Notification

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
INTERNAL_REMARK = "Trình lãnh đạo ký, gọi anh Tuấn 0905000111"
UNLABELLED = "nghi giấy tờ giả, báo công an"


def received_with(officer, procedure, **notes):
    applicant = services.Applicant("Nguyễn Văn An", id_number="048090001234", phone="0905123456")
    return services.receive_dossier(
        officer=officer, procedure=procedure, applicant=applicant, components=all_components(procedure), **notes
    )


def everything_public(dossier):
    """What the citizen and the world can read about the dossier: the QR page, the lookup API (by
    token and by code + verifier), the Zalo chat answer, the messages queued to the citizen and the
    printed forms that travel with the paper dossier."""
    from zalo import bot

    dossier.refresh_from_db()
    page = Client().get(f"/tra-cuu/{dossier.lookup_token}/", **HOST)
    by_token = Client().get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST)
    by_code = Client().post(
        "/api/v1/lookup/", {"code": dossier.code, "verifier": "0905123456"}, "application/json", **HOST
    )
    assert (page.status_code, by_token.status_code, by_code.status_code) == (200, 200, 200), by_code.content
    chat = bot.answer("u-ke-do-tham", f"{dossier.code} 0905123456").text
    messages = " ".join(Notification.objects.filter(dossier=dossier).values_list("text", flat=True))
    control = json.dumps(printing.form_context(dossier, "control")["rows"], default=str, ensure_ascii=False)
    return {
        "page": page.content.decode(),
        "api by token": json.dumps(by_token.json(), ensure_ascii=False),
        "api by code": json.dumps(by_code.json(), ensure_ascii=False),
        "zalo chat": chat,
        "messages": messages,
        "control slip": control,
    }


def test_internal_note_never_reaches_the_public_page(officers):
    reception, specialist, leader = officers["reception"], officers["specialist"], officers["leader"]
    dossier = receive(reception, ProcedureFactory(department=specialist.department))
    dossier = services.hand_over(
        dossier, reception, to_department=specialist.department, to_officer=specialist, internal_note=INTERNAL_REMARK
    )
    dossier = services.hand_over(dossier, specialist, to_department=leader.department, internal_note=INTERNAL_REMARK)
    new_date = current_calendar().add_working_days(dossier.appointment_date, 2)
    dossier = services.postpone(
        dossier, leader, new_date=new_date, reason="Chờ xác minh hộ tịch", internal_note=INTERNAL_REMARK
    )
    dossier = services.mark_result_ready(dossier, leader, result="Giấy khai sinh số 12", internal_note=INTERNAL_REMARK)
    # Through the API too, as a script would send it.
    token, _created = Token.objects.get_or_create(user=reception.user)
    response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").post(
        f"/api/v1/dossiers/{dossier.pk}/actions/return_result/",
        {"version": dossier.version, "internal_note": INTERNAL_REMARK},
        "application/json",
        **HOST,
    )
    assert response.status_code == 200, response.json()
    assert all(INTERNAL_REMARK in e["internal_note"] for e in response.json()["events"][1:])  # officers see it

    public = everything_public(dossier)
    for where, text in public.items():
        assert "Tuấn" not in text and "0905000111" not in text, where
    assert "Chờ xác minh hộ tịch" in public["page"] and "Chờ xác minh hộ tịch" in public["api by token"]
    assert "Chờ xác minh hộ tịch" in public["messages"]  # the apology's reason: the citizen must be told


def test_note_without_label_is_internal(officers):
    reception = officers["reception"]
    dossier = received_with(reception, ProcedureFactory(), note=UNLABELLED)
    dossier = services.request_fees(dossier, reception, amount=150_000, note=UNLABELLED)
    token, _created = Token.objects.get_or_create(user=reception.user)
    response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").post(
        f"/api/v1/dossiers/{dossier.pk}/actions/record_fees_paid/",
        {"version": dossier.version, "note": UNLABELLED},
        "application/json",
        **HOST,
    )
    assert response.status_code == 200, response.json()
    events = list(DossierEvent.objects.filter(dossier=dossier).order_by("id"))
    assert [e.action for e in events] == ["receive", "request_fees", "record_fees_paid"]
    assert all(e.internal_note == UNLABELLED and UNLABELLED not in e.citizen_note for e in events)
    assert events[1].citizen_note == "Số tiền phải nộp: 150.000 đồng."  # the generated text stays public
    for where, text in everything_public(dossier).items():
        assert UNLABELLED not in text, where


def test_citizen_note_is_shown(officers):
    reception = officers["reception"]
    dossier = received_with(reception, ProcedureFactory(), citizen_note="Hồ sơ nộp kèm bản gốc để đối chiếu")
    token, _created = Token.objects.get_or_create(user=reception.user)
    response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").post(
        f"/api/v1/dossiers/{dossier.pk}/actions/hand_over/",
        {
            "version": dossier.version,
            "to_department": officers["specialist"].department.code,
            "citizen_note": "Hồ sơ đã chuyển phòng Tư pháp thẩm định",
            "internal_note": INTERNAL_REMARK,
        },
        "application/json",
        **HOST,
    )
    assert response.status_code == 200, response.json()
    public = everything_public(dossier)
    for where in ("page", "api by token", "api by code"):
        assert "Hồ sơ nộp kèm bản gốc để đối chiếu" in public[where], where
        assert "Hồ sơ đã chuyển phòng Tư pháp thẩm định" in public[where], where
        assert "Tuấn" not in public[where], where


def test_existing_notes_become_internal_except_reasons_the_citizen_must_see(officers):
    """The migration: every old note was public; now only reasons and generated texts stay public."""
    import importlib

    migration = importlib.import_module("dossiers.migrations.0003_citizen_and_internal_notes")
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = received_with(reception, ProcedureFactory(department=specialist.department), citizen_note=INTERNAL_REMARK)
    dossier = services.hand_over(dossier, reception, to_department=specialist.department, citizen_note=INTERNAL_REMARK)
    dossier = services.request_fees(dossier, specialist, amount=20_000)
    dossier = services.record_fees_paid(dossier, specialist, citizen_note="Đã nộp tại quầy")
    dossier = services.stop(dossier, officers["leader"], reason="Hồ sơ giả mạo")
    services.reissue_lookup_token(dossier, reception, note="Mất giấy")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.move_notes(None, editor)

    notes = {e.action: (e.citizen_note, e.internal_note) for e in DossierEvent.objects.filter(dossier=dossier)}
    assert notes["receive"] == ("", INTERNAL_REMARK)
    assert notes["hand_over"] == ("", INTERNAL_REMARK)
    assert notes["request_fees"] == ("Số tiền phải nộp: 20.000 đồng.", "")
    assert notes["record_fees_paid"] == ("", "Đã nộp tại quầy")
    assert notes["stop"] == ("Hồ sơ giả mạo", "")
    assert notes["reissue_token"] == ("", "Mất giấy")
    # The append-only trigger is back on.
    with pytest.raises(Exception, match="append-only"):
        DossierEvent.objects.filter(dossier=dossier).update(internal_note="sửa")
