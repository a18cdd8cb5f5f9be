"""Papers sent in the OA chat (issue 13): a signed ``user_send_image`` / ``user_send_file`` as the fake
Zalo makes it, posted to the real webhook, the stored event processed, then the fetch task's work
(``zalo.chatfiles.handle``) against the fake's media URLs; the bot's answers are read on the fake's phone.
"""

import time

import pytest

from dossiers import services as dossier_services
from dossiers.tests.factories import receive
from supplements.models import FileState, Source, SupplementFile
from supplements.tests.images import HTML, PDF, jpeg
from zalo import chatfiles, inbox, tasks
from zalo.models import DossierLink, Follower, InboundEvent
from zalo.tests.test_portal_zalo import post, signed, text_event

pytestmark = pytest.mark.django_db
USER = "u-giay-to"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def queued(monkeypatch):
    """The fetch tasks the webhook's processing queued (their event keys), run by the test itself."""
    keys = []
    monkeypatch.setattr(tasks.fetch_chat_files, "delay", lambda key: keys.append(key))
    return keys


@pytest.fixture
def callbacks(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def dossier(reception, specialist):
    dossier = receive(reception)
    dossier_services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    dossier.refresh_from_db()
    return dossier


def ask(dossier, officer, *names):
    dossier_services.request_supplement(
        dossier, officer, items=[dossier_services.MissingItem(name, "Thiếu") for name in names]
    )
    dossier.refresh_from_db()


def link(dossier, user=USER):
    follower, _ = Follower.objects.get_or_create(user_id=user)
    DossierLink.objects.create(dossier=dossier, follower=follower)


def deliver(event, callbacks, queued):
    """Post the signed event to the webhook and process it; returns the queued task's key (or None)."""
    event = {**event, "timestamp": str(int(time.time() * 1000))}
    raw, signature = signed(event)
    response = post(raw, signature)
    assert response.status_code == 200, response.content
    if response.json().get("duplicate"):
        return None
    before = len(queued)
    with callbacks(execute=True):
        inbox.process(InboundEvent.objects.latest("received_at").pk)
    return queued[-1] if len(queued) > before else None


def run_task(key, callbacks, **kwargs):
    with callbacks(execute=True):
        return chatfiles.handle(key, **kwargs)


def replies(zalo, user=USER):
    return [m["text"] for m in zalo.find_messages(recipient=user, direction="out")]


def photo_event(zalo, content=None, user=USER):
    return zalo.send_image(user, content or jpeg(), "image/jpeg", "anh.jpg")["event"]


def file_event(zalo, content, name, user=USER, content_type="application/pdf"):
    return zalo.send_file(user, content, name, content_type)["event"]


def chat(zalo, text, callbacks, queued, user=USER):
    zalo.interact(user)
    return deliver(text_event(text, user=user, msg_id=f"t-{time.monotonic_ns()}"), callbacks, queued)


def test_one_missing_item_a_photo_answers_it_and_is_confirmed(zalo, dossier, specialist, queued, callbacks):
    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    key = deliver(photo_event(zalo), callbacks, queued)
    assert InboundEvent.objects.get(dedupe_key=key).outcome == "media:0/1"
    assert run_task(key, callbacks) == "media:1/1"
    file = SupplementFile.objects.get()
    assert (file.dossier, file.item.name, file.state, file.source) == (
        dossier,
        "Giấy chứng sinh",
        FileState.RECEIVED,
        Source.CHAT,
    )
    assert file.follower_user_id == USER and file.zalo_message_id and file.content_type == "image/jpeg"
    [answer] = replies(zalo)
    assert "Đã nhận ảnh" in answer and "Giấy chứng sinh" in answer and dossier.code in answer


def test_several_items_the_bot_asks_which_and_the_number_answers(zalo, dossier, specialist, queued, callbacks):
    ask(dossier, specialist, "Tờ khai", "Giấy chứng sinh", "Sổ hộ khẩu")
    link(dossier)
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    run_task(deliver(file_event(zalo, PDF, "so-ho-khau.pdf"), callbacks, queued), callbacks)
    photo, pdf = SupplementFile.objects.order_by("id")
    assert photo.state == pdf.state == FileState.AWAITING_ITEM and photo.item is None
    first_question, second_question = replies(zalo)
    assert "Đây là giấy tờ nào" in first_question
    assert "1. Tờ khai\n2. Giấy chứng sinh\n3. Sổ hộ khẩu" in first_question
    assert "tệp “so-ho-khau.pdf”" in second_question

    chat(zalo, "7", callbacks, queued)  # no such item: asked again, nothing chosen
    assert "số thứ tự của một giấy tờ còn thiếu" in replies(zalo)[-1]
    assert SupplementFile.objects.filter(state=FileState.AWAITING_ITEM).count() == 2

    chat(zalo, "2", callbacks, queued)  # the oldest waiting file (the photo) is item 2
    photo.refresh_from_db()
    assert (photo.state, photo.item.name) == (FileState.RECEIVED, "Giấy chứng sinh")
    answer = replies(zalo)[-1]
    assert "Đã nhận ảnh" in answer and "Giấy chứng sinh" in answer and "tệp “so-ho-khau.pdf”" in answer
    chat(zalo, "số 3", callbacks, queued)
    pdf.refresh_from_db()
    assert (pdf.state, pdf.item.name) == (FileState.RECEIVED, "Sổ hộ khẩu")
    assert "Đã nhận tệp “so-ho-khau.pdf” cho giấy tờ “Sổ hộ khẩu”" in replies(zalo)[-1]
    # Nothing is waiting any more: a number is an ordinary question for the officers.
    chat(zalo, "1", callbacks, queued)
    assert "cán bộ sẽ trả lời" in replies(zalo)[-1]


def test_a_file_left_waiting_by_an_earlier_request_is_not_the_one_a_number_answers(
    zalo, dossier, specialist, queued, callbacks
):
    ask(dossier, specialist, "Tờ khai", "Giấy chứng sinh")
    link(dossier)
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    dossier_services.receive_supplement(dossier, specialist)  # brought on paper at the counter instead
    dossier.refresh_from_db()
    ask(dossier, specialist, "Bản sao CCCD", "Giấy ủy quyền")
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    old, new = SupplementFile.objects.order_by("id")
    chat(zalo, "2", callbacks, queued)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.state == FileState.AWAITING_ITEM and old.item is None
    assert (new.state, new.item.name) == (FileState.RECEIVED, "Giấy ủy quyền")
    assert "“Giấy ủy quyền”" in replies(zalo)[-1]


def test_one_message_with_two_photos_keeps_both_once(zalo, dossier, specialist, queued, callbacks):
    ask(dossier, specialist, "Tờ khai", "Giấy chứng sinh")
    link(dossier)
    event = photo_event(zalo)
    second = zalo.store_media(jpeg(color="blue"), "image/jpeg", "b.jpg")["url"]
    event["message"]["attachments"].append({"type": "image", "payload": {"url": second, "thumbnail": second}})
    key = deliver(event, callbacks, queued)
    assert run_task(key, callbacks) == "media:2/2"
    run_task(key, callbacks)
    msg_id = event["message"]["msg_id"]
    assert sorted(SupplementFile.objects.values_list("zalo_message_id", flat=True)) == [msg_id, f"{msg_id}#1"]
    assert len([r for r in replies(zalo) if "Đây là giấy tờ nào" in r]) == 2


def test_a_replayed_webhook_and_a_task_run_twice_attach_once_and_answer_once(
    zalo, dossier, specialist, queued, callbacks
):
    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    event = photo_event(zalo)
    key = deliver(event, callbacks, queued)
    assert deliver(event, callbacks, queued) is None  # same msg_id: stored once, nothing queued
    run_task(key, callbacks)
    run_task(key, callbacks)  # Celery redelivered it (acks_late, the worker died after committing)
    InboundEvent.objects.filter(dedupe_key=key).update(outcome="media:0/1")  # even the progress lost:
    run_task(key, callbacks)  # attach_file finds the message's file and adds nothing
    assert SupplementFile.objects.count() == 1
    assert len([r for r in replies(zalo) if "Đã nhận ảnh" in r]) == 2  # only the lost-progress rerun re-answers


def test_a_cdn_failure_is_retried_and_the_file_attached_once(zalo, dossier, specialist, queued, callbacks):
    from zalo import media

    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    key = deliver(photo_event(zalo), callbacks, queued)
    zalo.set_faults(media_error_next=1)
    with pytest.raises(media.Unavailable):
        run_task(key, callbacks)
    assert not SupplementFile.objects.exists() and replies(zalo) == []
    run_task(key, callbacks)
    assert SupplementFile.objects.count() == 1 and len(replies(zalo)) == 1
    # A CDN that keeps failing: at the last attempt the citizen is asked to send again.
    key = deliver(photo_event(zalo), callbacks, queued)
    zalo.set_faults(media_error_next=1)
    run_task(key, callbacks, final_attempt=True)
    assert SupplementFile.objects.count() == 1 and "Chưa tải được tệp" in replies(zalo)[-1]


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (HTML, "giay-to.jpg", "Chỉ nhận ảnh chụp"),  # HTML renamed .jpg: the type comes from the content
        (b"\xff" * 300_000, "to.pdf", "Tệp quá lớn"),  # larger than the cap (200 kB here)
    ],
)
def test_a_refused_file_gets_the_checks_message_and_nothing_is_stored(
    zalo, dossier, specialist, queued, callbacks, settings, media_root, content, name, expected
):
    settings.SUPPLEMENT_MAX_BYTES = 200_000
    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    run_task(deliver(file_event(zalo, content, name), callbacks, queued), callbacks)
    assert not SupplementFile.objects.exists()
    assert expected in replies(zalo)[-1]
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_a_photo_larger_than_the_cap_without_a_declared_size_is_not_read_past_it(
    zalo, dossier, specialist, queued, callbacks, settings
):
    settings.SUPPLEMENT_MAX_BYTES = 100_000
    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    run_task(deliver(photo_event(zalo, jpeg() + b"\x00" * 150_000), callbacks, queued), callbacks)
    assert not SupplementFile.objects.exists() and "Tệp quá lớn" in replies(zalo)[-1]


def test_no_linked_dossier_or_no_open_request_gets_a_clear_answer(zalo, dossier, specialist, queued, callbacks):
    ask(dossier, specialist, "Giấy chứng sinh")  # someone's dossier waits for papers, linked to another account
    link(dossier, user="u-nguoi-nop")
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    assert "chưa liên kết với hồ sơ nào" in replies(zalo)[-1]
    # Linked to a dossier that waits for nothing (its request was received at the counter).
    dossier_services.receive_supplement(dossier, specialist)
    link(dossier)
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    assert "không có yêu cầu bổ sung giấy tờ nào đang chờ" in replies(zalo)[-1]
    assert not SupplementFile.objects.exists()


def test_two_dossiers_waiting_the_bot_sends_each_ones_upload_link_and_attaches_nothing(
    zalo, dossier, reception, specialist, queued, callbacks
):
    from supplements import links

    second = receive(reception)
    dossier_services.hand_over(second, reception, to_department=specialist.department, to_officer=specialist)
    second.refresh_from_db()
    for each in (dossier, second):
        ask(each, specialist, "Giấy chứng sinh")
        link(each)
    run_task(deliver(photo_event(zalo), callbacks, queued), callbacks)
    assert not SupplementFile.objects.exists()
    answer = replies(zalo)[-1]
    assert "có 2 hồ sơ đang chờ bổ sung" in answer
    sent = dict(line[2:].split(": ", 1) for line in answer.splitlines()[1:])
    for each in (dossier, second):  # each link opens its own dossier's upload page
        token = sent[each.code].rstrip("/").rsplit("/", 1)[1]
        assert links.open_link(token).dossier == each


def test_a_url_that_is_not_zalos_is_not_fetched(zalo, dossier, specialist, queued, callbacks):
    ask(dossier, specialist, "Giấy chứng sinh")
    link(dossier)
    event = photo_event(zalo)
    event["message"]["attachments"][0]["payload"]["url"] = "http://169.254.169.254/latest/meta-data/"
    run_task(deliver(event, callbacks, queued), callbacks)
    assert not SupplementFile.objects.exists() and "không phải của Zalo" in replies(zalo)[-1]


def test_a_malformed_attachment_is_recorded_not_fetched(zalo, queued, callbacks):
    event = photo_event(zalo)
    event["message"]["attachments"] = [{"type": "image"}]
    assert deliver(event, callbacks, queued) is None
    assert InboundEvent.objects.latest("received_at").outcome == "malformed"
