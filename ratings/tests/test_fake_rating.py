"""The fake Zalo's side of rating (issue 13.5): reply buttons under a CS message and the ZNS rating
template, tapped on the phone page. No Django: the fake in a thread and a webhook receiver."""

import json
import re

import pytest

from testing.zalo import OA_ID, OA_SECRET_KEY, WebhookReceiver, start_env
from zalo import errors as zerr
from zalo.signature import verify_event_signature

BUTTONS = [{"title": f"{n} sao", "type": "oa.query.hide", "payload": f"#DG abcdef1234 {n}"} for n in (5, 4, 3, 2, 1)]


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


def _event(receiver, predicate):
    headers, body = receiver.wait_for(predicate)
    assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
    return json.loads(body)


def _phone(env, who):
    return env.control_http.get(env.url + "/_fake/", params={"r": f"{OA_ID}|{who}"}).text


def _form_fields(page, action):
    """The hidden fields and submit buttons of the first form posting to `action` on the phone page."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    buttons = re.findall(r'<button type="submit"(?: name="(\w+)" value="(\d)")?>', form)
    return {k: v.replace("&amp;", "&") for k, v in fields.items()}, buttons


def test_a_tapped_reply_button_comes_back_as_the_citizens_text(env, receiver):
    env.control("POST", "/_fake/interact", {"user_id": "rb-1"})
    env.client.send_cs_message(env.token(), "rb-1", "Mời đánh giá", buttons=BUTTONS)
    [sent] = env.fake.find_messages(recipient="rb-1", kind="cs")
    assert sent["buttons"] == BUTTONS
    page = _phone(env, "rb-1")
    assert all(b["title"] in page for b in BUTTONS)
    fields, _ = _form_fields(page, "/_fake/ui/tap_button")
    assert fields["payload"] == "#DG abcdef1234 5"
    env.control_http.post(env.url + "/_fake/ui/tap_button", data=fields)
    event = _event(receiver, lambda e: e["event_name"] == "user_send_text")
    assert (event["sender"]["id"], event["message"]["text"]) == ("rb-1", "#DG abcdef1234 5")


@pytest.mark.parametrize(
    "attachment",
    [
        {"type": "template", "payload": {"buttons": BUTTONS + BUTTONS[:1]}},  # six
        {"type": "template", "payload": {"buttons": [{"title": "x", "type": "oa.open.sms", "payload": "1"}]}},
        {"type": "template", "payload": {"buttons": []}},
        {"type": "media", "payload": {"buttons": BUTTONS}},
    ],
)
def test_bad_buttons_are_refused_like_bad_parameters(env, attachment):
    env.control("POST", "/_fake/interact", {"user_id": "rb-2"})
    client = env.client
    with pytest.raises(zerr.ZaloError) as refused:
        client._post(
            env.url,
            "/v3.0/oa/message/cs",
            env.token(),
            {"recipient": {"user_id": "rb-2"}, "message": {"text": "x", "attachment": attachment}},
        )
    assert refused.value.code == -201
    assert not env.fake.find_messages(recipient="rb-2", kind="cs")


def test_the_zns_rating_template_is_rated_once_from_the_phone(env, receiver):
    env.fake.templates["tpl-dg"] = {"params": ["ma_ho_so"], "text": "Hồ sơ <ma_ho_so>: mời đánh giá", "rating": True}
    result = env.client.send_zns(env.token(), "84905123456", "tpl-dg", {"ma_ho_so": "H-1"}, "danang-9-rating")
    page = _phone(env, "84905123456")
    fields, stars = _form_fields(page, "/_fake/ui/zns_rate")
    assert fields["msg_id"] == result.msg_id and [v for _, v in stars] == ["1", "2", "3", "4", "5"]
    env.control_http.post(env.url + "/_fake/ui/zns_rate", data={**fields, "rate": "2", "note": "chờ lâu"})
    event = _event(receiver, lambda e: e["event_name"] == "user_feedback")
    assert event["message"] | {"submit_time": ""} == {
        "msg_id": result.msg_id,
        "tracking_id": "danang-9-rating",
        "rate": 2,
        "note": "chờ lâu",
        "feedback": [],
        "submit_time": "",
    }
    assert "Đã đánh giá 2/5" in _phone(env, "84905123456")
    again = env.control_http.post(env.url + "/_fake/zns_rate", json={"msg_id": result.msg_id, "rate": 5, "sync": True})
    assert again.status_code == 400 and "already rated" in again.text
    assert sum(1 for _, body in receiver.calls if json.loads(body)["event_name"] == "user_feedback") == 1
