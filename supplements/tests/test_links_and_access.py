"""The upload link and who gets a citizen's file (issue 13): the citizen through their own links, officers
of the province who may see the dossier through the portal (each opening audited), nobody else."""

import io
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from conftest import otp_login
from dossiers import services as dossier_services
from dossiers.models import AccessKind, Dossier, PersonalDataAccess
from dossiers.tests.factories import receive
from notifications.models import Kind, Notification
from offices.tests.factories import OfficerFactory
from supplements import links, services
from supplements.models import FileState, Source, SupplementFile
from supplements.uploads import CappedUploadHandler

from .images import HTML, PDF, jpeg, phone_photo_exif

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def waiting(officer, *names):
    """A dossier waiting for `names`, as the counter asked."""
    dossier = receive(officer)
    return dossier_services.request_supplement(
        dossier, officer, items=[dossier_services.MissingItem(name, "Thiếu") for name in names]
    )


def attach(dossier, data=None, name="anh.jpg"):
    return services.attach_file(dossier=dossier, data=data or jpeg(), original_name=name, source=Source.LINK)


def audit_rows():
    return list(PersonalDataAccess.objects.order_by("id").values_list("username", "kind", "dossier_id"))


def officer_client(officer):
    client = Client(**HOST)
    otp_login(client, officer.user)
    return client


# --- officers ---------------------------------------------------------------------------------------


def test_an_officer_who_may_see_the_dossier_opens_its_files_and_each_opening_is_audited(reception):
    dossier = waiting(reception, "Tờ khai", "Giấy chứng sinh")
    photo, pdf = attach(dossier), attach(dossier, PDF, "to-khai.pdf")
    client = officer_client(reception)

    image = client.get(reverse("supplement-file", args=[photo.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image["Content-Disposition"].startswith("inline;")
    assert image["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image["Content-Security-Policy"] and "default-src 'none'" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content) == photo.file.open("rb").read()

    document = client.get(reverse("supplement-file", args=[pdf.pk]))
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    # Never rendered in the portal's origin: a download, not sniffed, sandboxed if a browser tried anyway.
    assert document["Content-Disposition"].startswith("attachment;")
    assert document["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in document["Content-Security-Policy"]
    assert b"".join(document.streaming_content) == PDF

    thumb = client.get(reverse("supplement-file", args=[photo.pk]), {"size": "thumb"})
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"

    assert audit_rows() == [("motcua.test", AccessKind.FILE, dossier.pk)] * 3
    assert str(photo.pk) in PersonalDataAccess.objects.first().detail


def test_an_officer_without_the_role_gets_nothing_and_nothing_is_audited(reception):
    dossier = waiting(reception, "Tờ khai")
    photo = attach(dossier)
    no_role = OfficerFactory(role="reception", department=reception.department, user__username="khong.vai.tro")
    no_role.user.groups.clear()  # a staff account of the province, but no role that sees dossiers
    assert officer_client(no_role).get(reverse("supplement-file", args=[photo.pk])).status_code == 404
    assert audit_rows() == []


def test_an_officer_of_another_department_gets_nothing(reception, other_department):
    dossier = waiting(reception, "Tờ khai")
    photo = attach(dossier)
    outsider = OfficerFactory(role="specialist", department=other_department, user__username="ngoai.phong")
    assert officer_client(outsider).get(reverse("supplement-file", args=[photo.pk])).status_code == 404
    assert audit_rows() == []


def test_anonymous_gets_the_login_page_not_the_file(reception):
    photo = attach(waiting(reception, "Tờ khai"))
    response = Client(**HOST).get(reverse("supplement-file", args=[photo.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert audit_rows() == []


def test_an_officer_of_another_province_gets_nothing(reception, camau):
    photo = attach(waiting(reception, "Tờ khai"))
    path = reverse("supplement-file", args=[photo.pk])
    with tenant_context(camau):
        stranger = OfficerFactory(role="reception", user__username="motcua.camau")
        client = Client(HTTP_HOST="camau.localhost")
        otp_login(client, stranger.user, host="camau.localhost")
        # In their own province the number names no file of Đà Nẵng.
        assert client.get(path, HTTP_HOST="camau.localhost").status_code == 404
        assert not PersonalDataAccess.objects.exists()
    # On Đà Nẵng's domain their session means nothing: the login page.
    response = client.get(path, **HOST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert audit_rows() == []


# --- the citizen --------------------------------------------------------------------------------------


def test_the_citizen_opens_their_files_through_the_qr_link_and_nobody_elses(reception):
    dossier = waiting(reception, "Tờ khai")
    photo = attach(dossier)
    other = waiting(reception, "Tờ khai")
    theirs = attach(other)
    client = Client(**HOST)
    mine = client.get(f"/tra-cuu/{dossier.lookup_token}/giay-to/{photo.pk}/")
    assert mine.status_code == 200 and mine["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/tra-cuu/{dossier.lookup_token}/giay-to/{theirs.pk}/").status_code == 404
    assert client.get(f"/tra-cuu/{'x' * 22}/giay-to/{photo.pk}/").status_code == 404
    assert audit_rows() == []  # the citizen's own access is not an officer's


def test_the_status_page_lists_what_was_sent_online_and_links_the_upload_page(reception):
    dossier = waiting(reception, "Tờ khai", "Giấy chứng sinh")
    client = Client(**HOST)
    page = client.get(f"/tra-cuu/{dossier.lookup_token}/").content.decode()  # cached from here on
    assert "Giấy tờ bạn đã gửi trực tuyến" not in page
    assert f"/tra-cuu/{dossier.lookup_token}/bo-sung/" in page

    item = dossier.supplement_requests.get().items.get(name="Giấy chứng sinh")
    record = services.attach_file(dossier=dossier, data=jpeg(), original_name="a.jpg", source=Source.LINK, item=item)
    # The cached page went with the new file (after the commit; the test's transaction stands for it).
    from django.db import connection

    for callback in [c for _sids, c, _robust in connection.run_on_commit]:
        callback()
    page = client.get(f"/tra-cuu/{dossier.lookup_token}/").content.decode()
    assert "Giấy tờ bạn đã gửi trực tuyến" in page and "Giấy chứng sinh" in page
    assert f"/tra-cuu/{dossier.lookup_token}/giay-to/{record.pk}/" in page
    # Only what the citizen sent: the paper file's components are not listed as sent online.
    assert "Tờ khai</strong>" not in page.split("Giấy tờ bạn đã gửi trực tuyến")[1].split("Quá trình xử lý")[0]

    upload = client.get(f"/tra-cuu/{dossier.lookup_token}/bo-sung/")
    assert upload.status_code == 302 and upload["Location"].startswith("/bo-sung/")
    assert client.get(upload["Location"]).status_code == 200


# --- the upload link ------------------------------------------------------------------------------------


def test_the_supplement_message_carries_a_working_upload_link(reception):
    dossier = waiting(reception, "Tờ khai")
    text = Notification.objects.get(dossier=dossier, kind=Kind.SUPPLEMENT).text
    assert "/bo-sung/" in text and "Tra cứu:" in text
    url = text.split("tải lên tại: ")[1].split()[0]
    page = Client(**HOST).get(url.split("localhost:8000")[-1].split("localhost")[-1])
    assert page.status_code == 200
    body = page.content.decode()
    assert dossier.code in body and "Tờ khai" in body and "Chụp ảnh" in body
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_an_upload_through_the_link_is_stored_for_its_item(reception):
    dossier = waiting(reception, "Tờ khai", "Giấy chứng sinh")
    item = dossier.supplement_requests.get().items.get(name="Giấy chứng sinh")
    client = Client(**HOST)
    path = links.upload_path(dossier)
    photo = io.BytesIO(jpeg(exif=phone_photo_exif()))
    photo.name = "IMG_0001.jpg"
    answer = client.post(path, {"item": item.pk, "file": photo}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["ok"] and "Đã nhận tệp Giấy chứng sinh" in answer.json()["message"]
    record = SupplementFile.objects.get()
    assert (record.item, record.state, record.source) == (item, FileState.RECEIVED, Source.LINK)
    assert b"PhoneMaker" not in record.file.open("rb").read()
    # The page's own link to it works, for this link only.
    assert client.get(answer.json()["file"]["url"]).status_code == 200
    # Without the page's script: the form posts and the page comes back (post/redirect/get).
    again = io.BytesIO(PDF)
    again.name = "to-khai.pdf"
    response = client.post(path, {"item": item.pk, "file": again})
    assert response.status_code == 302 and "da_nhan=1" in response["Location"]
    assert "Đã nhận tệp" in client.get(response["Location"]).content.decode()


def test_a_refused_file_gets_the_vietnamese_answer_on_the_page(reception, media):
    dossier = waiting(reception, "Tờ khai")
    client = Client(**HOST)
    path = links.upload_path(dossier)
    fake = io.BytesIO(HTML)
    fake.name = "anh.jpg"
    answer = client.post(path, {"file": fake}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "Chỉ nhận ảnh chụp" in answer.json()["message"]
    fake.seek(0)
    page = client.post(path, {"file": fake})
    assert page.status_code == 400 and "Chỉ nhận ảnh chụp" in page.content.decode()
    assert not SupplementFile.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_a_30_mb_upload_is_refused_before_its_body_is_read(reception):
    dossier = waiting(reception, "Tờ khai")
    client = Client(**HOST)
    big = io.BytesIO(b"\xff\xd8\xff" + b"\x00" * (30 * 1024 * 1024))
    big.name = "anh.jpg"
    answer = client.post(links.upload_path(dossier), {"file": big}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 413 and "tối đa 10 MB" in answer.json()["message"]
    assert not SupplementFile.objects.exists()


def test_the_upload_handler_stops_reading_at_the_cap_whatever_the_declared_length():
    """A body that says it is small (or a multipart body holding a large file) is still read no further
    than the cap: the handler stops the parser at the first chunk past it."""
    from django.http.multipartparser import MultiPartParser

    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = head + b"\xff" * (30 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.consumed += len(data)
            return data

    stream = Counting(body)
    handler = CappedUploadHandler(limit=1024 * 1024)
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": str(len(body))}
    _post, files = MultiPartParser(meta, stream, [handler]).parse()
    assert handler.too_large and "file" not in files
    assert Counting.consumed < 3 * 1024 * 1024  # of the 30 MB body


def test_an_expired_link_opens_nothing(reception, settings, monkeypatch):
    dossier = waiting(reception, "Tờ khai")
    settings.SUPPLEMENT_LINK_DAYS = 30
    then = int(time.time()) - 31 * 86400
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then))
    path = links.upload_path(dossier)
    monkeypatch.undo()
    client = Client(**HOST)
    response = client.get(path)
    assert response.status_code == 404 and "đã hết hạn" in response.content.decode()
    photo = io.BytesIO(jpeg())
    photo.name = "a.jpg"
    assert client.post(path, {"file": photo}).status_code == 404
    assert not SupplementFile.objects.exists()
    settings.SUPPLEMENT_LINK_DAYS = 40  # the same link inside a longer validity opens
    assert client.get(path).status_code == 200


def test_another_dossiers_link_opens_nothing_of_this_one(reception):
    mine, theirs = waiting(reception, "Tờ khai"), waiting(reception, "Tờ khai")
    their_file = attach(theirs)
    client = Client(**HOST)
    my_path = links.upload_path(mine)
    # Their link shows their page only, my link cannot open their file.
    assert theirs.code not in client.get(my_path).content.decode()
    assert client.get(f"{my_path}tep/{their_file.pk}/").status_code == 404
    # My link's signature with their dossier's number in it is not a link.
    token = links.upload_token(mine)
    forged = f"{theirs.pk}-{theirs.supplement_requests.get().pk}:" + token.split(":", 1)[1]
    assert client.get(f"/bo-sung/{forged}/").status_code == 404
    # A file posted through my link goes to my dossier, whatever the form says.
    photo = io.BytesIO(jpeg())
    photo.name = "a.jpg"
    their_item = theirs.supplement_requests.get().items.get()
    answer = client.post(my_path, {"item": their_item.pk, "file": photo}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and not answer.json()["ok"]
    assert list(SupplementFile.objects.values_list("dossier_id", flat=True)) == [theirs.pk]


def test_a_link_closes_when_the_papers_are_received_or_the_receipt_is_reissued(reception):
    dossier = waiting(reception, "Tờ khai")
    client = Client(**HOST)
    path = links.upload_path(dossier)
    assert client.get(path).status_code == 200
    dossier_services.reissue_lookup_token(Dossier.objects.get(pk=dossier.pk), reception)
    assert client.get(path).status_code == 404  # a lost receipt voids the links sent before
    dossier = Dossier.objects.get(pk=dossier.pk)
    path = links.upload_path(dossier)
    assert client.get(path).status_code == 200
    dossier_services.receive_supplement(dossier, reception)
    assert client.get(path).status_code == 404
    assert links.upload_path(Dossier.objects.get(pk=dossier.pk)) == ""


def test_the_upload_needs_the_pages_csrf_token(reception):
    dossier = waiting(reception, "Tờ khai")
    client = Client(enforce_csrf_checks=True, **HOST)
    path = links.upload_path(dossier)
    photo = io.BytesIO(jpeg())
    photo.name = "a.jpg"
    assert client.post(path, {"file": photo}).status_code == 403
    page = client.get(path).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    photo.seek(0)
    answer = client.post(path, {"csrfmiddlewaretoken": token, "file": photo}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json()["ok"]
