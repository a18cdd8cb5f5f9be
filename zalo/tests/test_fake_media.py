"""The fake Zalo's images and files (docs/zalo-api.md "Images and files sent by citizens").

A citizen sends a photo or a document to the OA: the portal receives a signed ``user_send_image`` /
``user_send_file`` whose URL, fetched like Zalo's CDN, gives back exactly the bytes sent. Unknown
media ids, a non-image or oversize article cover, and a file posing as a page are refused or
neutralised. No Django: the fake in a thread and a webhook receiver.
"""

import base64
import hashlib
import json

import httpx
import pytest

from fakezalo.media import MAX_IMAGE, sample_png
from testing.zalo import OA_ID, OA_SECRET_KEY, WebhookReceiver, start_env
from zalo.signature import verify_event_signature


@pytest.fixture
def receiver():
    rec = WebhookReceiver()
    yield rec
    rec.close()


@pytest.fixture
def env(receiver):
    env = start_env(webhook_url=receiver.url)
    yield env
    env.close()


def _event(receiver, name):
    headers, body = receiver.wait_for(lambda event: event["event_name"] == name)
    assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
    return json.loads(body)


def test_a_photo_sent_by_a_citizen_reaches_the_portal_signed_with_a_url_serving_its_bytes(env, receiver):
    photo = sample_png(16, 9, (200, 30, 30))
    env.control(
        "POST",
        "/_fake/send_image",
        {"user_id": "cd-1", "content_base64": base64.b64encode(photo).decode(), "name": "a.png"},
    )
    event = _event(receiver, "user_send_image")
    assert (event["sender"]["id"], event["recipient"]["id"]) == ("cd-1", OA_ID)
    [attachment] = event["message"]["attachments"]
    assert attachment["type"] == "image" and set(attachment["payload"]) == {"url", "thumbnail"}
    fetched = httpx.get(attachment["payload"]["url"], trust_env=False)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert fetched.content == photo
    # Writing to the OA is an interaction: a CS reply is now allowed (the −230 window).
    assert env.fake.citizens[(OA_ID, "cd-1")].last_interaction is not None


def test_a_file_sent_by_a_citizen_carries_name_size_checksum_and_downloads_never_renders(env, receiver):
    page = b"<html><script>alert(1)</script></html>"
    env.control(
        "POST",
        "/_fake/send_file",
        {
            "user_id": "cd-2",
            "name": "don.html",
            "content_type": "text/html",
            "content_base64": base64.b64encode(page).decode(),
        },
    )
    payload = _event(receiver, "user_send_file")["message"]["attachments"][0]["payload"]
    assert (payload["name"], payload["size"], payload["checksum"]) == (
        "don.html",
        str(len(page)),
        hashlib.md5(page, usedforsecurity=False).hexdigest(),
    )
    fetched = httpx.get(payload["url"], trust_env=False)
    assert fetched.content == page
    assert fetched.headers["content-disposition"].startswith("attachment")
    assert fetched.headers["x-content-type-options"] == "nosniff"


def test_a_guessed_media_url_is_not_found(env):
    assert httpx.get(f"{env.url}/_fake/media/{'0' * 32}/anh.png", trust_env=False).status_code == 404


def test_the_phone_page_sends_a_chosen_file_as_the_citizen(env, receiver):
    answer = httpx.post(
        f"{env.url}/_fake/ui/send_media",
        data={"user_id": "cd-3", "oa_id": OA_ID, "back": "/_fake/"},
        files={"file": ("giay-to.pdf", b"%PDF-1.4 giay to", "application/pdf")},
        trust_env=False,
    )
    assert answer.status_code == 303
    payload = _event(receiver, "user_send_file")["message"]["attachments"][0]["payload"]
    assert httpx.get(payload["url"], trust_env=False).content == b"%PDF-1.4 giay to"
    assert "Gửi ảnh/tệp" in httpx.get(f"{env.url}/_fake/", trust_env=False).text


@pytest.mark.parametrize(
    ("file", "refused"),
    [
        (("cover.png", sample_png(), "image/png"), False),
        (("script.js", b"alert(1)", "text/javascript"), True),
        (("big.png", b"\x89PNG" + b"0" * MAX_IMAGE, "image/png"), True),
    ],
)
def test_article_cover_upload_takes_only_a_bounded_image(env, file, refused):
    answer = httpx.post(
        f"{env.url}/v2.0/article/upload_image",
        headers={"access_token": env.token()},
        files={"file": file},
        trust_env=False,
    ).json()
    if refused:
        assert answer["error"] == -201
    else:
        assert answer["error"] == 0
        assert httpx.get(answer["data"]["url"], trust_env=False).content == file[1]


def test_article_cover_upload_needs_a_valid_token(env):
    answer = httpx.post(
        f"{env.url}/v2.0/article/upload_image",
        headers={"access_token": "forged"},
        files={"file": ("cover.png", sample_png(), "image/png")},
        trust_env=False,
    ).json()
    assert answer["error"] == -216
