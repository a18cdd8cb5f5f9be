"""Rating the service (issue 13.4), tested as attacks: asked once, one rating per dossier changeable for
7 days, only the dossier's own token or linked Zalo account rates it, a replayed webhook rates nothing
twice, low ratings (and only they) reach the province admins' inbox, answers are audited."""

import json
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from conftest import otp_login
from dossiers import services as dossier_services
from dossiers.events import dossier_event, dossier_event_committed
from dossiers.models import Dossier
from dossiers.tests.factories import receive
from fakezalo.ratings import zns_rate
from notifications import delivery
from notifications.models import Channel, Kind, Notification, State
from offices.tests.factories import OfficerFactory
from ratings import services
from ratings.chat import NOT_YOURS
from ratings.models import Rating, RatingAnswerLog, RatingRequest
from testing.zalo import APP
from zalo import inbox
from zalo.models import CitizenQuestion, DossierLink, Follower, InboundEvent, MessageTemplate, TemplateParameter
from zalo.signature import signature_header

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "danang.localhost"}


def returned(officers, **applicant):
    reception, specialist, leader = officers["reception"], officers["specialist"], officers["leader"]
    dossier = receive(reception, **applicant)
    dossier_services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    dossier_services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 7")
    dossier_services.return_result(dossier, reception)
    dossier.refresh_from_db()
    return dossier


def linked(dossier, user_id, zalo):
    follower, _ = Follower.objects.get_or_create(
        user_id=user_id, defaults={"is_following": True, "last_interaction_at": timezone.now()}
    )
    DossierLink.objects.create(dossier=dossier, follower=follower)
    zalo.interact(user_id)
    return follower


def signed(payload):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    return raw, signature_header(payload["app_id"], raw, payload["timestamp"], APP["oa_secret_key"])


def text_event(text, user, msg_id):
    return {
        "app_id": APP["app_id"],
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": APP["oa_id"]},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": str(int(time.time() * 1000)),
    }


def post(payload, signature=None):
    raw, good = signed(payload)
    return Client().post(
        "/zalo/webhook/", raw, content_type="application/json", HTTP_X_ZEVENT_SIGNATURE=signature or good, **HOST
    )


def deliver(payload, capture):
    """The webhook as Zalo posts it, then its processing (as the Celery task would): the outcome."""
    response = post(payload)
    assert response.status_code == 200, response.content
    event = InboundEvent.objects.get(dedupe_key__endswith=payload["message"]["msg_id"])
    with capture(execute=True):
        return inbox.process(event.pk)


def rating_row(dossier):
    return Notification.objects.get(dossier=dossier, kind=Kind.RATING)


# --- asked once -----------------------------------------------------------------------------------


def test_returning_the_result_asks_once_even_if_the_event_is_delivered_twice(zalo, officers):
    dossier = returned(officers)
    event = dossier.events.get(action="return_result")
    for _ in range(2):  # the same event again, in and after its transaction
        with transaction.atomic():
            dossier_event.send(sender=Dossier, event=event, dossier=dossier)
        dossier_event_committed.send(sender=Dossier, event=event, dossier=dossier)
    assert RatingRequest.objects.filter(dossier=dossier).count() == 1
    assert Notification.objects.filter(dossier=dossier, kind=Kind.RATING).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it, not only the code
        RatingRequest.objects.create(dossier=dossier, event=event)
    row = rating_row(dossier)
    assert "/danh-gia/" in row.text and dossier.code in row.text


def test_no_other_action_asks(zalo, officers):
    dossier = receive(officers["reception"])
    assert not RatingRequest.objects.exists()
    assert not Notification.objects.filter(dossier=dossier, kind=Kind.RATING).exists()


def test_the_cs_request_carries_reply_buttons_and_is_sent_once(zalo, officers):
    dossier = returned(officers)
    linked(dossier, "u-r1", zalo)
    row = rating_row(dossier)
    assert delivery.send(row.pk).state == State.SENT
    assert delivery.send(row.pk) is None  # a redelivered task sends nothing
    row.refresh_from_db()
    assert (row.channel, row.recipient) == (Channel.CS, "u-r1")
    [message] = [m for m in zalo.find_messages(recipient="u-r1") if m.get("buttons")]
    ref = RatingRequest.objects.get(dossier=dossier).ref
    assert [b["payload"] for b in message["buttons"]] == [f"#DG {ref} {n}" for n in (5, 4, 3, 2, 1)]
    assert message["text"] == row.text


# --- by chat ----------------------------------------------------------------------------------------


def test_a_button_rates_the_dossier_of_its_message(zalo, officers, django_capture_on_commit_callbacks):
    dossier = returned(officers)
    linked(dossier, "u-r2", zalo)
    ref = RatingRequest.objects.get(dossier=dossier).ref
    assert deliver(text_event(f"#DG {ref} 4", "u-r2", "m-b1"), django_capture_on_commit_callbacks) == "rating"
    rating = Rating.objects.get(dossier=dossier)
    assert (rating.score, rating.source, rating.follower_user_id) == (4, Rating.Source.BUTTON, "u-r2")
    assert "4/5" in zalo.find_messages(recipient="u-r2")[-1]["text"]


def test_a_reply_digit_rates_the_dossier_that_message_was_about(zalo, officers, django_capture_on_commit_callbacks):
    first, second = returned(officers), returned(officers)
    follower = linked(first, "u-r3", zalo)
    DossierLink.objects.create(dossier=second, follower=follower)
    assert delivery.send(rating_row(first).pk).state == State.SENT
    assert delivery.send(rating_row(second).pk).state == State.SENT  # the latest message was about `second`
    assert deliver(text_event("2", "u-r3", "m-d1"), django_capture_on_commit_callbacks) == "rating"
    assert Rating.objects.get().dossier == second
    assert Rating.objects.get().source == Rating.Source.CHAT


def test_a_strangers_reply_rates_nothing(zalo, officers, django_capture_on_commit_callbacks):
    dossier = returned(officers)
    owner = linked(dossier, "u-owner", zalo)
    assert delivery.send(rating_row(dossier).pk).state == State.SENT
    ref = RatingRequest.objects.get(dossier=dossier).ref
    zalo.interact("u-stranger")
    # A bare digit from an account that was never asked is an ordinary message.
    assert deliver(text_event("5", "u-stranger", "m-s1"), django_capture_on_commit_callbacks) == "question"
    # The button's payload typed (or replayed) by another account names the request, but rates nothing.
    assert deliver(text_event(f"#DG {ref} 1", "u-stranger", "m-s2"), django_capture_on_commit_callbacks) == "rating"
    assert zalo.find_messages(recipient="u-stranger")[-1]["text"] == str(NOT_YOURS)
    # An account whose link an officer removed is a stranger too.
    DossierLink.objects.filter(follower=owner).update(removed_at=timezone.now())
    assert deliver(text_event("1", "u-owner", "m-s3"), django_capture_on_commit_callbacks) == "question"
    assert deliver(text_event(f"#DG {ref} 1", "u-owner", "m-s4"), django_capture_on_commit_callbacks) == "rating"
    assert not Rating.objects.exists()
    assert CitizenQuestion.objects.count() == 2


def test_a_forged_or_replayed_webhook_rates_nothing_twice(zalo, officers, django_capture_on_commit_callbacks):
    dossier = returned(officers)
    linked(dossier, "u-r4", zalo)
    ref = RatingRequest.objects.get(dossier=dossier).ref
    forged = text_event(f"#DG {ref} 1", "u-r4", "m-f1")
    assert post(forged, signature="mac=" + "0" * 64).status_code == 401
    stale = {**text_event(f"#DG {ref} 1", "u-r4", "m-f2"), "timestamp": str(int((time.time() - 3600) * 1000))}
    assert post(stale).status_code == 403
    assert not InboundEvent.objects.exists()

    payload = text_event(f"#DG {ref} 5", "u-r4", "m-f3")
    assert deliver(payload, django_capture_on_commit_callbacks) == "rating"
    services.record(dossier, 3, source=Rating.Source.PAGE)  # the citizen changes it on the page
    assert post(payload).json() == {"ok": True, "duplicate": True}  # Zalo (or anyone) posts it again
    with django_capture_on_commit_callbacks(execute=True):
        inbox.process(InboundEvent.objects.get().pk)  # and a redelivered task
    rating = Rating.objects.get()
    assert (rating.score, rating.changes) == (3, 1)


# --- one rating per dossier, changeable for 7 days -----------------------------------------------------


def test_a_second_rating_updates_within_7_days_and_is_refused_after(zalo, officers):
    dossier = returned(officers)
    url = f"/tra-cuu/{dossier.lookup_token}/danh-gia/"
    assert Client().post(url, {"score": "2", "comment": "Phải chờ lâu"}, **HOST).status_code == 302
    assert Client().post(url, {"score": "4"}, **HOST).status_code == 302
    rating = Rating.objects.get(dossier=dossier)
    assert (rating.score, rating.comment, rating.changes) == (4, "Phải chờ lâu", 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            dossier=dossier,
            score=5,
            source="page",
            procedure=dossier.procedure,
            first_given_at=timezone.now(),
            updated_at=timezone.now(),
        )
    Rating.objects.filter(pk=rating.pk).update(first_given_at=timezone.now() - timedelta(days=7, minutes=1))
    response = Client().post(url, {"score": "5"}, **HOST)
    assert response.status_code == 409 and "không thay đổi được nữa" in response.content.decode()
    with pytest.raises(services.RatingLocked):
        services.record(dossier, 5, source=Rating.Source.CHAT)
    assert Rating.objects.get(pk=rating.pk).score == 4
    page = Client().get(url, **HOST).content.decode()
    assert "chỉ còn để xem" in page and 'name="score"' not in page


def test_another_dossiers_token_cannot_rate_this_one(zalo, officers):
    mine, other = returned(officers), returned(officers)
    response = Client().post(
        f"/tra-cuu/{other.lookup_token}/danh-gia/",
        {"score": "1", "dossier": mine.pk, "code": mine.code, "token": mine.lookup_token},
        **HOST,
    )
    assert response.status_code == 302
    assert list(Rating.objects.values_list("dossier_id", flat=True)) == [other.pk]
    old_token = mine.lookup_token
    dossier_services.reissue_lookup_token(mine, officers["reception"])
    for token in (old_token, "x" * 43):
        assert Client().post(f"/tra-cuu/{token}/danh-gia/", {"score": "5"}, **HOST).status_code == 404
    assert not Rating.objects.filter(dossier=mine).exists()


def test_a_dossier_not_yet_returned_cannot_be_rated(zalo, officers):
    dossier = receive(officers["reception"])
    response = Client().post(f"/tra-cuu/{dossier.lookup_token}/danh-gia/", {"score": "5"}, **HOST)
    assert response.status_code == 400 and not Rating.objects.exists()
    for bad in ("0", "6", "", "5; DROP"):
        done = returned(officers)
        assert Client().post(f"/tra-cuu/{done.lookup_token}/danh-gia/", {"score": bad}, **HOST).status_code == 400
    assert not Rating.objects.exists()


def test_the_status_page_links_to_the_rating_page_once_returned(zalo, officers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = returned(officers)
    page = Client().get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).content.decode()
    assert 'href="danh-gia/"' in page
    rate = Client().get(f"/tra-cuu/{dossier.lookup_token}/danh-gia/", **HOST).content.decode()
    assert rate.count('name="score"') == 5 and 'name="comment"' in rate


def test_the_rating_keeps_procedure_department_reception_point_and_officers(zalo, officers):
    dossier = returned(officers)
    rating, created = services.record(dossier, 5, "Nhanh gọn", source=Rating.Source.PAGE)
    assert created
    assert rating.procedure == dossier.procedure
    assert rating.department == officers["specialist"].department
    assert rating.reception_point == officers["reception"].department
    assert set(rating.officers.all()) == {officers["reception"], officers["specialist"]}


# --- ZNS rating template ---------------------------------------------------------------------------


@pytest.fixture
def zns_rating_template(zalo):
    zalo.templates["tpl-danh-gia"] = {
        "params": ["ma_ho_so", "ten_thu_tuc", "tra_cuu"],
        "text": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã trả kết quả. Mời đánh giá.",
        "rating": True,
    }
    template = MessageTemplate.objects.create(channel="zns", kind="rating", template_id="tpl-danh-gia")
    for name, source, limit in (("ma_ho_so", "code", 50), ("ten_thu_tuc", "procedure", 100), ("tra_cuu", "link", 200)):
        TemplateParameter.objects.create(template=template, name=name, source=source, max_length=limit)
    return template


def feedback_event(tracking_id, msg_id, rate, note=""):
    return {
        "app_id": APP["app_id"],
        "oa_id": APP["oa_id"],
        "event_name": "user_feedback",
        "sender": {"id": "84905123456"},
        "recipient": {"id": APP["oa_id"]},
        "message": {"msg_id": msg_id, "tracking_id": tracking_id, "rate": rate, "note": note, "feedback": []},
        "timestamp": str(int(time.time() * 1000)),
    }


def test_the_zns_rating_template_rates_by_its_tracking_id_once(
    zalo, officers, zns_rating_template, django_capture_on_commit_callbacks
):
    dossier = returned(officers)
    row = rating_row(dossier)
    assert delivery.send(row.pk).state == State.SENT
    row.refresh_from_db()
    assert row.channel == Channel.ZNS
    # The citizen taps 2 stars on the fake's phone: the fake builds Zalo's user_feedback event.
    event = zns_rate(zalo, row.zalo_message_id, 2, "Chờ lâu quá")["event"]
    assert event["message"]["tracking_id"] == row.tracking_id
    assert deliver(event, django_capture_on_commit_callbacks) == "rated"
    rating = Rating.objects.get(dossier=dossier)
    assert (rating.score, rating.comment, rating.source, rating.needs_answer) == (2, "Chờ lâu quá", "zns", True)
    with pytest.raises(ValueError):
        zns_rate(zalo, row.zalo_message_id, 5)  # the template takes one rating
    assert post(event).json()["duplicate"] is True  # replayed: stored once, processed once
    assert Rating.objects.get().changes == 0
    # Another message's tracking id (the receipt's), or a rating request's with another message id: nothing.
    receipt = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
    assert deliver(feedback_event(receipt.tracking_id, "zm-1", 5), django_capture_on_commit_callbacks) == (
        "feedback_unmatched"
    )
    assert deliver(feedback_event(row.tracking_id, "zm-2", 5), django_capture_on_commit_callbacks) == (
        "feedback_unmatched"
    )
    assert Rating.objects.get().score == 2


# --- the inbox ----------------------------------------------------------------------------------


@pytest.fixture
def province_admin(in_danang):
    return OfficerFactory(role="province_admin", user__username="quantri.test")


def test_low_ratings_land_in_the_inbox_high_ones_do_not(zalo, officers, province_admin):
    given = {}
    for score, comment in ((1, ""), (2, "Bình thường"), (5, "Rất nhanh"), (4, "Thái độ cán bộ khó chịu"), (3, "")):
        dossier = returned(officers)
        given[dossier.code] = services.record(dossier, score, comment, source=Rating.Source.PAGE)[0]
    client = Client()
    otp_login(client, province_admin.user)
    page = client.get("/admin/ratings/ratingtoanswer/", **HOST).content.decode()
    shown = {code for code in given if code in page}
    assert shown == {c for c, r in given.items() if r.score <= 2 or r.comment.startswith("Thái độ")}
    assert client.get("/admin/ratings/rating/", **HOST).status_code == 200


def test_an_officer_without_the_role_cannot_see_the_inbox(zalo, officers):
    dossier = returned(officers)
    rating = services.record(dossier, 1, source=Rating.Source.PAGE)[0]
    client = Client()
    client.force_login(officers["reception"].user)
    for url in ("/admin/ratings/ratingtoanswer/", f"/admin/ratings/ratingtoanswer/{rating.pk}/change/"):
        assert client.get(url, **HOST).status_code in (302, 403)
    assert client.post(f"/admin/ratings/ratingtoanswer/{rating.pk}/change/", {"answer": "x"}, **HOST).status_code in (
        302,
        403,
    )
    assert Rating.objects.get().answer == "" and not RatingAnswerLog.objects.exists()
    assert Client().get("/admin/ratings/ratingtoanswer/", **HOST).status_code == 302  # anonymous: to the login


def test_answering_is_audited_and_reaches_the_citizen(
    zalo, officers, province_admin, django_capture_on_commit_callbacks
):
    dossier = returned(officers)
    linked(dossier, "u-r5", zalo)
    rating = services.record(dossier, 1, "Sai tên", source=Rating.Source.CHAT, follower_user_id="u-r5")[0]
    client = Client()
    otp_login(client, province_admin.user)
    url = f"/admin/ratings/ratingtoanswer/{rating.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"answer": "Xin lỗi ông/bà, đã cấp lại bản đúng."}, **HOST)
    assert response.status_code == 302, response.content.decode()[:500]
    rating.refresh_from_db()
    assert (rating.answer, rating.answered_by) == ("Xin lỗi ông/bà, đã cấp lại bản đúng.", province_admin)
    log = RatingAnswerLog.objects.get()
    assert (log.officer, log.text, log.rating_id) == (province_admin, rating.answer, rating.pk)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        RatingAnswerLog.objects.filter(pk=log.pk).update(text="sửa")
    assert "đã cấp lại bản đúng" in zalo.find_messages(recipient="u-r5")[-1]["text"]
    page = Client().get(f"/tra-cuu/{dossier.lookup_token}/danh-gia/", **HOST).content.decode()
    assert "đã cấp lại bản đúng" in page
    assert connection.schema_name == "danang"
