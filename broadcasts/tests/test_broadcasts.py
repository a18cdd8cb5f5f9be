"""Broadcasts: two people, the audited emergency path, exact audiences, cancel, night-time rule."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from broadcasts import delivery, services
from broadcasts.models import AuditEntry, Broadcast, BroadcastSettings, Recipient, Severity, State
from conftest import otp_login
from egov.tokenbucket import TokenBucket
from offices.tests.factories import OfficerFactory
from zalo.models import Follower, FollowerWard, ZaloAccount

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture
def admins(in_danang):
    return OfficerFactory(role="province_admin"), OfficerFactory(role="province_admin")


def draft(author, **overrides):
    fields = {
        "category": "storm_flood",
        "severity": Severity.EMERGENCY,
        "title": "Bão số 5 đổ bộ",
        "body": "Người dân khu vực ven biển di dời đến nơi an toàn trước 18:00.",
        "expires_at": timezone.now() + timedelta(days=2),
        **overrides,
    }
    return services.create(author, **fields)


def followers_in(ward_code, ward_name, n, prefix, following=True):
    people = []
    for i in range(n):
        f = Follower.objects.create(user_id=f"{prefix}-{i}", is_following=following)
        FollowerWard.objects.create(follower=f, ward_code=ward_code, ward_name=ward_name, source="chat")
        people.append(f)
    return people


def test_nobody_approves_their_own_broadcast(admins):
    author, other = admins
    b = services.submit(draft(author), author)
    with pytest.raises(services.BroadcastError, match="tự duyệt"):
        services.approve(b, author)
    assert Broadcast.objects.get(pk=b.pk).state == State.SUBMITTED
    assert services.approve(b, other).state == State.APPROVED
    assert [a.action for a in b.audit.all()] == ["create", "submit", "approve"]


def test_the_emergency_path_needs_the_province_setting_a_reason_and_is_audited(admins):
    author, _other = admins
    b = draft(author)
    with pytest.raises(services.BroadcastError, match="chưa cho phép"):
        services.send_emergency_alone(b, author, "Bão vào lúc 2 giờ sáng")
    BroadcastSettings.objects.create(allow_emergency_alone=True)
    with pytest.raises(services.BroadcastError, match="lý do"):
        services.send_emergency_alone(b, author, "  ")
    routine = draft(author, severity=Severity.WARNING)
    with pytest.raises(services.BroadcastError, match="Khẩn cấp"):
        services.send_emergency_alone(routine, author, "Khẩn")
    sent = services.send_emergency_alone(b, author, "Bão vào lúc 2 giờ sáng, không kịp chờ duyệt")
    assert sent.state == State.APPROVED and sent.emergency_alone and sent.approved_by == author
    entry = AuditEntry.objects.get(broadcast=b, action="emergency_alone")
    assert entry.actor == author and "2 giờ sáng" in entry.note


def test_officers_can_neither_create_nor_see_broadcasts(admins, reception):
    with pytest.raises(services.BroadcastError, match="Chỉ quản trị tỉnh"):
        draft(reception)
    draft(admins[0])
    client = Client()
    client.force_login(reception.user)
    assert client.get("/admin/broadcasts/broadcast/", **HOST).status_code == 403
    assert "broadcasts" not in client.get("/admin/", **HOST).content.decode()


def test_ward_targeting_reaches_exactly_the_followers_of_those_wards(admins, zalo):
    author, other = admins
    hai_chau = followers_in("20242", "Phường Hải Châu", 3, "hc")
    followers_in("20257", "Phường Hòa Cường", 2, "hoc")
    followers_in("20242", "Phường Hải Châu", 2, "gone", following=False)
    b = services.approve(services.submit(draft(author, all_wards=False, wards=["20242"]), author), other)
    delivery.start(b.pk)
    targeted = set(Recipient.objects.filter(broadcast=b).values_list("follower__user_id", flat=True))
    assert targeted == {f.user_id for f in hai_chau}  # unfollowed users receive nothing
    assert delivery.per_ward_counts(b) == [{"ward_code": "20242", "ward_name": "Phường Hải Châu", "followers": 3}]


def _approved_emergency(admins, **overrides):
    author, other = admins
    return services.approve(services.submit(draft(author, **overrides), author), other)


def test_every_follower_is_messaged_once_even_if_a_batch_runs_twice(admins, zalo, monkeypatch):
    ZaloAccount.objects.update(template_broadcast="tpl-tiep-nhan")
    people = [Follower.objects.create(user_id=f"f-{i}", is_following=True) for i in range(5)]
    for f in people[:2]:
        zalo.interact(f.user_id)
        Follower.objects.filter(pk=f.pk).update(last_interaction_at=timezone.now())
    for f in people:
        zalo.follow(f.user_id)
    zalo.templates["tpl-tiep-nhan"] = {"params": ["tieu_de", "noi_dung"]}
    b = _approved_emergency(admins)
    batches = delivery.start(b.pk)
    for ids in batches:
        delivery.send_batch(b.pk, ids)
        delivery.send_batch(b.pk, ids)  # a redelivered task
    b.refresh_from_db()
    assert b.state == State.SENT
    channels = dict(Recipient.objects.filter(broadcast=b).values_list("follower__user_id", "channel"))
    assert channels == {"f-0": "cs", "f-1": "cs", "f-2": "template", "f-3": "template", "f-4": "template"}
    assert zalo.stats()["duplicates"] == {}
    for f in people:
        assert len(zalo.find_messages(recipient=f.user_id)) == 1
    assert delivery.progress(b)["percent"] == 100


def test_cancel_stops_the_remaining_sends(admins, zalo, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 2)
    people = [
        Follower.objects.create(user_id=f"c-{i}", is_following=True, last_interaction_at=timezone.now())
        for i in range(6)
    ]
    for f in people:
        zalo.interact(f.user_id)
    b = _approved_emergency(admins)
    batches = delivery.start(b.pk)
    assert len(batches) == 3
    delivery.send_batch(b.pk, batches[0])
    services.cancel(b, admins[1], "Bão đổi hướng")
    for ids in batches[1:]:
        delivery.send_batch(b.pk, ids)
    statuses = list(Recipient.objects.filter(broadcast=b).order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "skipped", "skipped", "skipped", "skipped"]
    assert len(zalo.find_messages(kind="cs")) == 2
    assert Broadcast.objects.get(pk=b.pk).state == State.CANCELLED


def test_routine_information_by_day_is_an_article_and_at_night_goes_per_follower(admins, zalo, monkeypatch):
    Follower.objects.create(user_id="n-1", is_following=True)
    zalo.follow("n-1")
    day = _approved_emergency(admins, severity=Severity.INFORMATION, title="Lịch tiếp công dân tháng 12")
    monkeypatch.setattr(delivery.zerr, "in_night_ban", lambda now=None: False)
    zalo.set_options(article_processing=0)
    assert delivery.start(day.pk) == []
    day.refresh_from_db()
    assert (day.delivery_mode, day.state) == ("article", State.SENT)
    assert zalo.find_messages(kind="broadcast")

    night = _approved_emergency(admins, severity=Severity.INFORMATION, title="Thông báo lúc 23 giờ")
    monkeypatch.setattr(delivery.zerr, "in_night_ban", lambda now=None: True)
    batches = delivery.start(night.pk)
    night.refresh_from_db()
    assert night.delivery_mode == "per_follower" and sum(len(b) for b in batches) == 1


def test_a_correction_waits_until_the_original_is_done(admins, zalo):
    original = _approved_emergency(admins)
    correction = services.correction(original, admins[0], title="Bão số 5", body="Giờ di dời là 17:00.")
    assert correction.corrects == original and correction.title.startswith("ĐÍNH CHÍNH")
    correction = services.approve(services.submit(correction, admins[0]), admins[1])
    assert delivery.start(correction.pk) == "wait"
    delivery.start(original.pk)  # no followers: done at once
    assert Broadcast.objects.get(pk=original.pk).state == State.SENT
    assert delivery.start(correction.pk) == []


def test_the_token_bucket_keeps_under_the_rate(in_danang):
    bucket = TokenBucket("danang:bucket:test", rate_per_minute=600, burst_seconds=0.5)  # 10/s, burst 5
    started = time.monotonic()
    for _ in range(15):
        assert bucket.take(timeout=5)
    assert time.monotonic() - started >= 0.9  # 10 beyond the burst at 10 per second


def test_admins_see_progress_and_the_public_page_lists_current_warnings(admins, zalo):
    b = _approved_emergency(admins)
    delivery.start(b.pk)
    old = _approved_emergency(admins, title="Tin đã hết hạn", expires_at=timezone.now() + timedelta(seconds=1))
    delivery.start(old.pk)
    Broadcast.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client = Client()
    otp_login(client, admins[0].user)
    progress = client.get(f"/admin/broadcasts/broadcast/{b.pk}/progress/", **HOST).json()
    assert progress["percent"] == 100 and progress["state"] == State.SENT
    page = client.get(f"/admin/broadcasts/broadcast/{b.pk}/change/", **HOST).content.decode()
    assert 'role="progressbar"' in page and "Xem trước trên điện thoại" in page
    public = Client().get("/canh-bao/", **HOST).content.decode()
    assert "Bão số 5 đổ bộ" in public and "Tin đã hết hạn" not in public


def test_followers_choose_wards_by_chat(zalo):
    from zalo.bot import answer

    reply = answer("w-1", "DK hai chau")
    assert reply.ward == ("20242", "Phường Hải Châu") and "Hải Châu" in reply.text
    assert answer("w-1", "dk Phường Hòa Cường").ward[1] == "Phường Hòa Cường"
    assert answer("w-1", "DK Không Có Phường Này").ward is None
    assert answer("w-1", "HUY DK").clear_wards


def test_compose_submit_and_approve_through_the_admin(admins, zalo):
    author, other = admins
    composer, approver = Client(), Client()
    otp_login(composer, author.user)
    otp_login(approver, other.user)
    response = composer.post(
        "/admin/broadcasts/broadcast/add/",
        {
            "category": "epidemic",
            "severity": Severity.WARNING,
            "title": "Sốt xuất huyết tăng",
            "body": "Diệt lăng quăng, ngủ màn.",
            "link": "",
            "wards": ["20242"],
            "expires_at_0": "30/12/2026",
            "expires_at_1": "17:00",
        },
        **HOST,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    b = Broadcast.objects.get(title="Sốt xuất huyết tăng")
    assert (b.created_by, b.all_wards, b.wards, b.state) == (author, False, ["20242"], State.DRAFT)
    # Each button posts the version of the broadcast its page showed.
    composer.post(f"/admin/broadcasts/broadcast/{b.pk}/do/submit/", {"version": b.version}, **HOST)
    submitted = Broadcast.objects.get(pk=b.pk)
    assert submitted.state == State.SUBMITTED
    refused = composer.post(
        f"/admin/broadcasts/broadcast/{b.pk}/do/approve/", {"version": submitted.version}, follow=True, **HOST
    )
    assert "tự duyệt" in refused.content.decode()
    approver.post(f"/admin/broadcasts/broadcast/{b.pk}/do/approve/", {"version": submitted.version}, **HOST)
    assert Broadcast.objects.get(pk=b.pk).state == State.APPROVED


def test_a_fast_first_batch_does_not_end_the_broadcast_early(admins, zalo, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 2)
    for i in range(5):
        Follower.objects.create(user_id=f"e-{i}", is_following=True, last_interaction_at=timezone.now())
        zalo.interact(f"e-{i}")
    b = _approved_emergency(admins)
    seen = []

    def worker(ids):  # a worker that sends each batch the moment it is queued
        delivery.send_batch(b.pk, ids)
        seen.append(Broadcast.objects.get(pk=b.pk).state)

    delivery.start(b.pk, enqueue=worker)
    assert seen[:-1] == [State.SENDING] * (len(seen) - 1)
    assert Broadcast.objects.get(pk=b.pk).state == State.SENT
    assert Recipient.objects.filter(broadcast=b, status="sent").count() == 5
