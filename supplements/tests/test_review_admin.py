"""The review on the dossier's admin page, through the Django test client: what the officer sees, what a
POST does, and forged POSTs by officers who may see the dossier but not decide."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import otp_login
from dossiers.models import Status
from notifications.models import Kind, Notification
from offices.tests.factories import OfficerFactory
from supplements.models import FileState, SupplementFile

from .images import PDF, jpeg, png
from .test_review import send, supplement_requested

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def client_for(officer):
    client = Client()
    otp_login(client, officer.user)
    return client


def change_url(dossier):
    return reverse("admin:dossiers_dossier_change", args=[dossier.pk])


def review_url(dossier):
    return reverse("admin:supplements_supplementfile_review", args=[dossier.pk])


@pytest.fixture
def arrived(reception, specialist):
    dossier = supplement_requested(reception, specialist)
    files = [
        send(dossier, "Tờ khai", PDF, "to-khai.pdf"),
        send(dossier, "Giấy chứng sinh", jpeg(), "chung-sinh.jpg"),
        send(dossier, "Ảnh 4x6", png(), "anh.png"),
    ]
    return dossier, files


def form(dossier, files, **decisions):
    data = {"request": dossier.supplement_requests.get().pk, "version": dossier.version, "file": [f.pk for f in files]}
    data.update(decisions)
    return data


def states(dossier):
    return dict(SupplementFile.objects.filter(dossier=dossier).values_list("original_name", "state"))


def test_the_dossier_page_shows_each_missing_item_next_to_its_files(arrived, specialist):
    dossier, files = arrived
    page = client_for(specialist).get(change_url(dossier), **HOST).content.decode()
    assert 'id="supplement-review-panel"' in page
    for name in ("Tờ khai", "Giấy chứng sinh", "Ảnh 4x6", "to-khai.pdf", "chung-sinh.jpg", "anh.png"):
        assert name in page
    for file in files:
        assert f'name="decision_{file.pk}"' in page
    assert 'form id="supplement-review"' in page and review_url(dossier) in page
    assert "data-rotate" in page and "data-thumbnail" in page  # photos: thumbnail and rotation


def test_accept_two_refuse_one_through_the_page_sends_one_message(arrived, specialist):
    dossier, (pdf, photo, portrait) = arrived
    client = client_for(specialist)
    response = client.post(
        review_url(dossier),
        form(
            dossier,
            [pdf, photo, portrait],
            **{
                f"decision_{pdf.pk}": "accept",
                f"decision_{photo.pk}": "accept",
                f"decision_{portrait.pk}": "refuse",
                f"reason_{portrait.pk}": "Ảnh bị lóa, không rõ mặt",
            },
        ),
        **HOST,
    )
    assert response.status_code == 302 and response["Location"] == change_url(dossier)
    assert states(dossier) == {
        "to-khai.pdf": FileState.ACCEPTED,
        "chung-sinh.jpg": FileState.ACCEPTED,
        "anh.png": FileState.REFUSED,
    }
    [message] = Notification.objects.filter(dossier=dossier, kind=Kind.SUPPLEMENT_REFUSED)
    assert "Ảnh 4x6 (không chấp nhận: Ảnh bị lóa, không rõ mặt)" in message.text
    page = client.get(change_url(dossier), **HOST).content.decode()
    assert "công dân được báo một lần" in page
    assert "Ảnh bị lóa, không rõ mặt" in page and f'name="decision_{portrait.pk}"' not in page  # decided


def test_a_refusal_without_a_reason_changes_nothing(arrived, specialist):
    dossier, (pdf, photo, portrait) = arrived
    client = client_for(specialist)
    client.post(
        review_url(dossier),
        form(dossier, [pdf, portrait], **{f"decision_{pdf.pk}": "accept", f"decision_{portrait.pk}": "refuse"}),
        **HOST,
    )
    assert set(states(dossier).values()) == {FileState.RECEIVED}
    assert "Chưa ghi lý do" in client.get(change_url(dossier), **HOST).content.decode()


def test_all_accepted_through_the_page_receives_the_supplement(arrived, specialist):
    dossier, files = arrived
    client = client_for(specialist)
    client.post(review_url(dossier), form(dossier, files, **{f"decision_{f.pk}": "accept" for f in files}), **HOST)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS and dossier.paused_at is None
    assert Notification.objects.filter(dossier=dossier, kind=Kind.NEW_APPOINTMENT).count() == 1
    page = client.get(change_url(dossier), **HOST).content.decode()
    assert "ngày hẹn trả" in page
    # The files stay visible, read-only, after the request ended.
    assert "chung-sinh.jpg" in page and "decision_" not in page


def test_a_stale_page_does_not_win(arrived, specialist, reception):
    dossier, (pdf, photo, portrait) = arrived
    stale = form(dossier, [portrait], **{f"decision_{portrait.pk}": "refuse", f"reason_{portrait.pk}": "Mờ"})
    # Another officer accepted the same photo after this page was loaded.
    client_for(reception).post(
        review_url(dossier), form(dossier, [portrait], **{f"decision_{portrait.pk}": "accept"}), **HOST
    )
    client = client_for(specialist)
    client.post(review_url(dossier), stale, **HOST)
    assert states(dossier)["anh.png"] == FileState.ACCEPTED
    assert not Notification.objects.filter(dossier=dossier, kind=Kind.SUPPLEMENT_REFUSED).exists()
    assert "vừa được xem xét" in client.get(change_url(dossier), **HOST).content.decode()


def test_paper_at_the_counter_still_works_and_the_unreviewed_files_stay_visible(arrived, reception):
    dossier, files = arrived
    client = client_for(reception)
    page = client.get(change_url(dossier), **HOST).content.decode()
    assert 'data-action="receive_supplement"' in page
    action = reverse("admin:dossiers_dossier_action", args=[dossier.pk, "receive_supplement"])
    ticks = {f"item_{i.pk}": "on" for i in dossier.supplement_requests.get().items.all()}
    counts = {f"count_{i.pk}": 1 for i in dossier.supplement_requests.get().items.all()}
    response = client.post(action, {"version": dossier.version, **ticks, **counts}, **HOST)
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS
    page = client.get(change_url(dossier), **HOST).content.decode()
    assert "anh.png" in page and "Chờ cán bộ xem xét" in page and "decision_" not in page


@pytest.mark.parametrize("who", ["province_admin", "leader_elsewhere", "specialist_elsewhere"])
def test_a_forged_post_by_an_officer_without_the_right_changes_nothing(arrived, other_department, who):
    dossier, files = arrived
    role = {"province_admin": "province_admin", "leader_elsewhere": "leader", "specialist_elsewhere": "specialist"}
    officer = OfficerFactory(role=role[who], department=other_department)
    client = client_for(officer)
    page = client.get(change_url(dossier), **HOST)
    if page.status_code == 200:  # the province admin sees every dossier: read-only, no decision to make
        assert "decision_" not in page.content.decode() and "Bạn chỉ được xem" in page.content.decode()
    else:
        assert page.status_code in (302, 403, 404)
    response = client.post(
        review_url(dossier),
        form(dossier, files, **{f"decision_{f.pk}": "refuse" for f in files}, **{f"reason_{f.pk}": "x" for f in files}),
        **HOST,
    )
    assert response.status_code in (403, 404)
    assert set(states(dossier).values()) == {FileState.RECEIVED}
    assert not Notification.objects.filter(dossier=dossier, kind=Kind.SUPPLEMENT_REFUSED).exists()


def test_a_file_of_another_dossier_posted_in_the_form_is_ignored(arrived, reception, specialist):
    dossier, files = arrived
    other = supplement_requested(reception, specialist)
    foreign = send(other, "Ảnh 4x6", png(), "khac.png")
    client_for(specialist).post(
        review_url(dossier),
        form(dossier, [foreign], **{f"decision_{foreign.pk}": "refuse", f"reason_{foreign.pk}": "x"}),
        **HOST,
    )
    assert SupplementFile.objects.get(pk=foreign.pk).state == FileState.RECEIVED


def test_the_review_url_takes_only_a_post(arrived, specialist):
    dossier, _files = arrived
    assert client_for(specialist).get(review_url(dossier), **HOST).status_code == 405
