"""Issue 13, end to end through real workers: a supplement is requested → the citizen sends two photos
in the OA chat and one PDF through the upload link → the officer accepts two and refuses one with a
reason → the citizen is told once → sends again → accepted → the clock resumes and the new date is
messaged.

Everything real but Zalo: the portal as a server process, a Celery worker on the default queue, a
private Redis, committed data on a throwaway province (dropped afterwards), and the fake Zalo in this
process posting signed webhooks and serving the files at URLs as Zalo's CDN would. The test waits on
conditions (what the citizen's phone shows, rows in the database), never on time.
"""

import json
import tempfile

import httpx
import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from supplements.tests.images import PDF, jpeg
from testing.live import live_stack, wait_for
from testing.zalo import APP
from zalo.signature import signature_header

pytestmark = [pytest.mark.worker]

SLUG = "thugiayto"
PHONE = "0906 111 222"
USER = "cd-giay-to"
ITEMS = ("Tờ khai có chữ ký", "Giấy chứng sinh", "Sổ hộ khẩu")
REASON = "Ảnh bị mờ, không đọc được số giấy chứng sinh"
WAIT = 90


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction (committed, as in production); named ``db`` so that
    pytest-django creates the test database when this module runs alone."""


@pytest.fixture(scope="module")
def media_root():
    with tempfile.TemporaryDirectory(prefix="supplements-live-") as path:
        yield path


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, media_root):
    with live_stack(
        django_db_blocker,
        slug=SLUG,
        name="Tỉnh Thử Giấy Tờ",
        agency_code="000.00.01.H96",
        app=APP,
        queues=settings.CELERY_TASK_DEFAULT_QUEUE,
        env_extra={"MEDIA_ROOT": media_root},
    ) as live:
        live.start_worker()
        yield live


@pytest.fixture
def live(stack, settings, media_root):
    from zalo import accounts

    settings.MEDIA_ROOT = media_root
    for name in ("ZALO_OAUTH_BASE_URL", "ZALO_OPENAPI_BASE_URL", "ZALO_BUSINESS_BASE_URL"):
        setattr(settings, name, stack.env[name])
    accounts._client.cache_clear()
    stack.fake.reset()
    yield stack
    accounts._client.cache_clear()


def _in(province, fn):
    with tenant_context(province):
        try:
            return fn()
        finally:
            connection.set_schema_to_public()


def _phone(fake, user):
    """What the citizen's phone shows from the OA, oldest first."""
    return [m["text"] for m in fake.find_messages(recipient=user, direction="out")]


def _wait_for_message(fake, user, seen, predicate, what):
    """The first new message (after the ``seen`` first ones) matching ``predicate``; returns its text."""
    found = []

    def arrived():
        found[:] = [t for t in _phone(fake, user)[seen:] if predicate(t)]
        return bool(found)

    wait_for(arrived, WAIT, what)
    return found[0]


def _files(province):
    from supplements.models import SupplementFile

    return _in(province, lambda: list(SupplementFile.objects.select_related("item").order_by("id")))


def _officer(username):
    from offices.models import Officer

    return Officer.objects.get(user__username=username)


def test_papers_by_chat_and_link_reviewed_resent_and_received(db, live, django_db_blocker):
    from dossiers import services
    from dossiers.models import Procedure, Status
    from notifications.models import Kind, Notification
    from supplements.models import FileState, Source

    fake, province = live.fake, live.province
    user = f"{USER}-{fake.now():.0f}"
    with django_db_blocker.unblock():
        # A dossier received at the counter; the citizen links their Zalo account by chat.
        def receive():
            with transaction.atomic():
                procedure = Procedure.objects.get(code="1.004873")
                return services.receive_dossier(
                    officer=_officer("motcua"),
                    procedure=procedure,
                    applicant=services.Applicant("Trần Thị Giấy", phone=PHONE),
                    components=[
                        services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()
                    ],
                )

        dossier = _in(province, receive)
        fake.follow(user)
        fake.send_text(user, f"{dossier.code} {PHONE}")
        _wait_for_message(fake, user, 0, lambda t: "Từ nay ông/bà sẽ nhận tin" in t, "the chat link")

        # The specialist asks for three papers: the citizen is told by Zalo.
        def ask():
            specialist = _officer("chuyenvien")
            d = services.hand_over(
                dossier, _officer("motcua"), to_department=specialist.department, to_officer=specialist
            )
            return services.request_supplement(
                d, specialist, items=[services.MissingItem(name, "Còn thiếu") for name in ITEMS]
            )

        _in(province, ask)
        seen = len(_phone(fake, user))
        _wait_for_message(fake, user, 0, lambda t: "cần bổ sung" in t and ITEMS[1] in t, "the supplement message")

        # Two photos in the chat: for each the bot asks which item, the citizen answers with its number.
        # The first download fails (Zalo's CDN answers 503): the worker's task retries it.
        fake.set_faults(media_error_next=1)
        for number, colour in ((1, "red"), (2, "green")):
            seen = len(_phone(fake, user))
            sent = fake.send_image(user, jpeg(color=colour), "image/jpeg", f"anh-{number}.jpg")
            question = _wait_for_message(fake, user, seen, lambda t: "Đây là giấy tờ nào" in t, "the bot's question")
            if number == 1:
                assert fake.fault_counts["media_error"] == 1
                _replay(live, sent["msg_id"])  # Zalo delivers the same event again: nothing more happens
            assert "\n".join(f"{n}. {name}" for n, name in enumerate(ITEMS, 1)) in question
            seen = len(_phone(fake, user))
            fake.send_text(user, str(number))
            confirmation = _wait_for_message(fake, user, seen, lambda t: "Đã nhận ảnh" in t, "the confirmation")
            assert f"“{ITEMS[number - 1]}”" in confirmation and dossier.code in confirmation

        # The PDF through the upload link (h_files' page), for the third item.
        _upload_pdf(live, province, dossier)

        assert len([t for t in _phone(fake, user) if "Đây là giấy tờ nào" in t]) == 2  # one question per photo
        files = _files(province)
        assert [(f.source, f.state, f.item.name) for f in files] == [
            (Source.CHAT, FileState.RECEIVED, ITEMS[0]),
            (Source.CHAT, FileState.RECEIVED, ITEMS[1]),
            (Source.LINK, FileState.RECEIVED, ITEMS[2]),
        ]
        assert [f.follower_user_id for f in files[:2]] == [user, user]

        if not _review_available():
            pytest.skip("h_review's services.accept_files/refuse_file/finish_review are not merged yet")

        # The officer accepts two and refuses the blurred photo, with a reason: told once, in writing.
        seen = len(_phone(fake, user))
        _in(province, lambda: _review(dossier, accept=[files[0], files[2]], refuse=(files[1], REASON)))
        told = _wait_for_message(fake, user, seen, lambda t: REASON in t, "the refusal message")
        assert ITEMS[1] in told and ITEMS[0] not in told and ITEMS[2] not in told

        # The citizen sends it again, from the fake's phone page ("Gửi ảnh/tệp"): one item is missing, so
        # the photo answers it without a question.
        seen = len(_phone(fake, user))
        with httpx.Client(trust_env=False, timeout=30) as phone:
            sent = phone.post(
                f"{live.fake_url}/_fake/ui/send_media",
                data={"oa_id": APP["oa_id"], "user_id": user, "back": "/_fake/"},
                files={"file": ("anh-lai.jpg", jpeg(size=(80, 40), color="blue"), "image/jpeg")},
            )
        assert sent.status_code == 303
        confirmation = _wait_for_message(fake, user, seen, lambda t: "Đã nhận ảnh" in t, "the confirmation")
        assert f"“{ITEMS[1]}”" in confirmation
        assert len([t for t in _phone(fake, user) if REASON in t]) == 1  # told once
        again = _files(province)[-1]
        assert (again.source, again.state, again.item.name) == (Source.CHAT, FileState.RECEIVED, ITEMS[1])

        # Accepted: the supplement is received, the clock resumes and the new date goes to the citizen.
        seen = len(_phone(fake, user))
        _in(province, lambda: _review(dossier, accept=[again]))
        dated = _wait_for_message(fake, user, seen, lambda t: "đã nhận giấy tờ bổ sung" in t, "the new date")

        def state():
            dossier.refresh_from_db()
            request = dossier.supplement_requests.get()
            rows = Notification.objects.filter(dossier=dossier, kind=Kind.NEW_APPOINTMENT).count()
            return dossier.status, dossier.paused_at, request.received_at, dossier.appointment_date, rows

        status, paused_at, received_at, appointment, rows = _in(province, state)
        assert status != Status.SUPPLEMENT and paused_at is None and received_at is not None and rows == 1
        # The clock runs again from today; a pause within one day moves no date (dossiers' property tests
        # cover the working days counted): the citizen is told the date and that it did not change.
        assert f"Ngày hẹn trả kết quả: {appointment:%d/%m/%Y} (không thay đổi)" in dated
        assert [f.state for f in _files(province)] == [
            FileState.ACCEPTED,
            FileState.REFUSED,
            FileState.ACCEPTED,
            FileState.ACCEPTED,
        ]


def _replay(live, msg_id):
    """Post the webhook of Zalo message ``msg_id`` again, as Zalo retries a delivery: signed, same body."""
    [body] = {w["body"] for w in live.fake.webhook_log if msg_id in w["body"]}
    raw = body.encode()
    event = json.loads(raw)
    port = live.portal_url.rsplit(":", 1)[1]
    answer = httpx.post(
        f"http://127.0.0.1:{port}/zalo/webhook/",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-ZEvent-Signature": signature_header(APP["app_id"], raw, event["timestamp"], APP["oa_secret_key"]),
        },
        trust_env=False,
    )
    assert answer.status_code == 200 and answer.json().get("duplicate") is True


def _upload_pdf(live, province, dossier):
    """The citizen opens the signed upload link (h_files' page) and sends the PDF for the third item, as
    the page's form does (the page's own browser test covers the buttons)."""
    from supplements import links

    def prepare():
        request = dossier.supplement_requests.get(received_at=None)
        return links.upload_path(dossier, request), request.items.order_by("id")[2].pk

    path, item_pk = _in(province, prepare)
    port = live.portal_url.rsplit(":", 1)[1]  # 127.0.0.1 is this province's domain in the live stack
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=30) as browser:
        page = browser.get(path)
        assert page.status_code == 200 and ITEMS[2] in page.text, page.text[:500]
        token = browser.cookies["csrftoken"]
        answer = browser.post(
            path,
            data={"item": str(item_pk), "csrfmiddlewaretoken": token},
            files={"file": ("so-ho-khau.pdf", PDF, "application/pdf")},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text[:500]


def _review_available():
    from supplements import services

    return all(hasattr(services, name) for name in ("accept_files", "refuse_file", "finish_review"))


def _review(dossier, accept=(), refuse=None):
    from supplements import services
    from supplements.models import SupplementFile

    officer = _officer("chuyenvien")
    with transaction.atomic():
        if accept:
            services.accept_files(list(SupplementFile.objects.filter(pk__in=[f.pk for f in accept])), officer)
        if refuse is not None:
            services.refuse_file(SupplementFile.objects.get(pk=refuse[0].pk), officer, refuse[1])
    request = dossier.supplement_requests.order_by("-requested_at").first()
    services.finish_review(request, officer)
