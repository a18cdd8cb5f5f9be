"""The real client against the local fake Zalo, in-process (no Django, no database)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from testing.zalo import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, REFRESH_TOKEN, Env, WebhookReceiver, start_env
from zalo.client import TokenPair, ZaloClient
from zalo.errors import (
    VN_TZ,
    NightBan,
    NotFollower,
    NotInteracted,
    OAuthRejected,
    Permanent,
    QuotaExceeded,
    RateLimited,
    RetryLater,
    TokenInvalid,
    TransportFailure,
)
from zalo.signature import code_challenge, make_code_verifier, verify_event_signature

USER = "8462000000000000001"
PHONE = "84912345678"


@pytest.fixture
def env():
    environment = start_env()
    yield environment
    environment.close()


@pytest.fixture
def receiver():
    rec = WebhookReceiver()
    yield rec
    rec.close()


# -- OAuth v4 ------------------------------------------------------------------------------------


def test_refresh_returns_new_pair_and_old_refresh_token_dies(env: Env):
    pair = env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    assert isinstance(pair, TokenPair)
    assert pair.expires_in == 90000
    assert pair.refresh_token != REFRESH_TOKEN
    assert pair.access_token not in repr(pair) and pair.refresh_token not in repr(pair)
    with pytest.raises(OAuthRejected) as caught:
        env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    assert caught.value.code == -14014
    # the chain goes on with the new refresh token
    again = env.client.refresh_access_token(APP_ID, APP_SECRET, pair.refresh_token)
    assert again.access_token != pair.access_token


def test_refresh_needs_the_app_secret_in_the_secret_key_header(env: Env):
    with pytest.raises(OAuthRejected):
        env.client.refresh_access_token(APP_ID, "wrong-secret", REFRESH_TOKEN)
    # the refresh token was not consumed by the refused call
    assert env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN).access_token


@pytest.mark.parametrize("round_", range(5))
def test_two_threads_refreshing_with_the_same_token_exactly_one_wins(env: Env, round_: int):
    refresh_token = env.control("POST", "/_fake/tokens", {})["refresh_token"]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(env.client.refresh_access_token(APP_ID, APP_SECRET, refresh_token))
        except OAuthRejected as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(type(r).__name__ for r in results) == ["OAuthRejected", "TokenPair"]


def test_old_access_token_dies_after_the_grace(env: Env):
    env.fake.set_options(old_token_grace=0.0)
    first = env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    env.fake.interact(USER)
    assert env.client.send_cs_message(first.access_token, USER, "Chào anh")
    second = env.client.refresh_access_token(APP_ID, APP_SECRET, first.refresh_token)
    with pytest.raises(TokenInvalid) as caught:
        env.client.send_cs_message(first.access_token, USER, "Chào anh")
    assert caught.value.code == -216
    assert env.client.send_cs_message(second.access_token, USER, "Chào anh")


def test_old_access_token_keeps_working_during_the_default_grace(env: Env):
    first = env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    env.client.refresh_access_token(APP_ID, APP_SECRET, first.refresh_token)
    env.fake.interact(USER)
    assert env.client.send_cs_message(first.access_token, USER, "Vẫn dùng được trong 60 giây")


def test_expired_access_token_is_token_invalid_on_both_hosts(env: Env):
    token = env.token()
    env.fake.interact(USER)
    env.control("POST", "/_fake/expire_tokens", {})
    with pytest.raises(TokenInvalid) as caught:
        env.client.send_cs_message(token, USER, "Xin chào")
    assert caught.value.code == -220
    with pytest.raises(TokenInvalid) as caught:
        env.client.send_zns(token, PHONE, "tpl", {"name": "An"}, "track-expired")
    assert caught.value.code == -124
    with pytest.raises(TokenInvalid):
        env.client.send_cs_message("not-a-token", USER, "Xin chào")


def test_token_lifetime_follows_the_fake_clock(env: Env):
    pair = env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    env.fake.interact(USER)
    env.control("POST", "/_fake/clock", {"advance": pair.expires_in - 10})
    env.fake.interact(USER)
    assert env.client.send_cs_message(pair.access_token, USER, "còn hạn")
    env.control("POST", "/_fake/clock", {"advance": 20})
    with pytest.raises(TokenInvalid):
        env.client.send_cs_message(pair.access_token, USER, "hết hạn")


def test_authorization_code_with_pkce_through_the_consent_page(env: Env):
    verifier = make_code_verifier()
    assert len(verifier) == 43
    url = env.client.authorization_url(APP_ID, "http://portal.test/zalo/callback", code_challenge(verifier), "st-1")
    assert url.startswith(env.url + "/v4/oa/permission?")
    page = env.control_http.get(url)
    assert page.status_code == 200 and "Cho phép" in page.text
    query = parse_qs(urlsplit(url).query)
    form = {k: v[0] for k, v in query.items()} | {"oa_id": OA_ID}
    redirect = env.control_http.post(env.url + "/v4/oa/permission", data=form)
    assert redirect.status_code == 302
    back = parse_qs(urlsplit(redirect.headers["Location"]).query)
    assert back["state"] == ["st-1"] and back["oa_id"] == [OA_ID]
    with pytest.raises(OAuthRejected):
        env.client.exchange_code(APP_ID, APP_SECRET, back["code"][0], make_code_verifier())
    code = env.control("POST", "/_fake/oauth/code", {"oa_id": OA_ID, "code_challenge": code_challenge(verifier)})
    pair = env.client.exchange_code(APP_ID, APP_SECRET, code["code"], verifier)
    assert pair.access_token and pair.refresh_token
    with pytest.raises(OAuthRejected):  # single use
        env.client.exchange_code(APP_ID, APP_SECRET, code["code"], verifier)


# -- CS, template, ZNS ---------------------------------------------------------------------------


def test_cs_needs_an_interaction_within_the_window(env: Env):
    token = env.token()
    with pytest.raises(NotInteracted) as caught:
        env.client.send_cs_message(token, USER, "Hồ sơ của anh đã sẵn sàng")
    assert caught.value.code == -230
    env.control("POST", "/_fake/send_text", {"user_id": USER, "text": "Cho tôi hỏi hồ sơ"})
    message_id = env.client.send_cs_message(token, USER, "Hồ sơ của anh đã sẵn sàng")
    assert isinstance(message_id, str) and message_id
    assert env.control("GET", "/_fake/count", key=f"cs|{USER}|Hồ sơ của anh đã sẵn sàng")["count"] == 1
    env.control("POST", "/_fake/clock", {"advance": 7 * 86400 + 1})
    with pytest.raises(NotInteracted):
        env.client.send_cs_message(env.token(), USER, "Quá 7 ngày")


def test_message_quota_reports_the_window(env: Env):
    token = env.token()
    assert env.client.message_quota(token, USER)["can_send_cs"] is False
    env.fake.interact(USER)
    quota = env.client.message_quota(token, USER)
    assert quota["can_send_cs"] is True and quota["last_interaction"].isdigit()


def test_template_to_a_non_follower_is_not_follower(env: Env):
    token = env.token()
    with pytest.raises(NotFollower) as caught:
        env.client.send_template_message(token, USER, "tpl-ho-so", {"ma_ho_so": "H15.1"})
    assert caught.value.code == -213
    env.control("POST", "/_fake/follow", {"user_id": USER})
    assert env.client.send_template_message(token, USER, "tpl-ho-so", {"ma_ho_so": "H15.1"})
    env.control("POST", "/_fake/unfollow", {"user_id": USER})
    with pytest.raises(NotFollower):
        env.client.send_template_message(token, USER, "tpl-ho-so", {"ma_ho_so": "H15.1"})


def test_registered_templates_are_checked(env: Env):
    token = env.token()
    env.fake.follow(USER)
    env.control("POST", "/_fake/templates", {"tpl-1": {"params": ["name"], "text": "Xin chào <name>"}})
    with pytest.raises(Permanent) as caught:
        env.client.send_template_message(token, USER, "tpl-unknown", {"name": "An"})
    assert caught.value.code == -109
    with pytest.raises(Permanent) as caught:
        env.client.send_template_message(token, USER, "tpl-1", {})
    assert caught.value.code == -111
    env.client.send_template_message(token, USER, "tpl-1", {"name": "An"})
    assert env.fake.find_messages(kind="template")[0]["text"] == "Xin chào An"


@pytest.mark.parametrize(
    "phone",
    ["0912345678", "+84912345678", "84 912345678", "8491234567", "8491234567890", "85912345678"]
    + ["８４９１２３４５６７８", ""],
)
def test_zns_bad_phone_is_permanent_before_any_http_call(phone: str):
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200, json={"error": 0}))
    with ZaloClient("http://o", "http://a", "http://b", transport=transport) as client:
        with pytest.raises(Permanent, match="84"):
            client.send_zns("token", phone, "tpl", {"name": "An"}, "track-1")
    assert calls == []


def test_zns_tracking_id_longer_than_48_is_refused_locally(env: Env):
    with pytest.raises(Permanent, match="48"):
        env.client.send_zns(env.token(), PHONE, "tpl", {}, "x" * 49)
    assert env.fake.stats()["requests"] == 0


def test_zns_success_returns_quota_and_is_recorded_once(env: Env):
    token = env.token()
    first = env.client.send_zns(token, PHONE, "tpl-ket-qua", {"ma_ho_so": "000.00.01.H15-250101-0001"}, "hs-1-zns-1")
    assert first.msg_id and first.sent_time.isdigit()
    assert (first.daily_quota, first.remaining_quota) == (500, 499)
    second = env.client.send_zns(token, "84387654321", "tpl-ket-qua", {"ma_ho_so": "X"}, "hs-2-zns-1")
    assert second.remaining_quota == 498
    assert env.control("GET", "/_fake/count", tracking_id="hs-1-zns-1")["count"] == 1
    recorded = env.control("GET", "/_fake/messages", tracking_id="hs-1-zns-1")["messages"]
    assert [(m["kind"], m["recipient"], m["msg_id"]) for m in recorded] == [("zns", PHONE, first.msg_id)]
    assert env.control("GET", "/_fake/stats")["duplicates"] == {}
    assert env.client.zns_quota(token) == {"dailyQuota": "500", "remainingQuota": "498"}


def test_zns_development_mode_is_sent_and_recorded(env: Env):
    env.client.send_zns(env.token(), PHONE, "tpl", {"name": "An"}, "dev-1", development=True)
    assert env.fake.find_messages(tracking_id="dev-1")[0]["development"] is True


def test_zns_daily_quota_exhausted_is_retry_later(env: Env):
    env.fake.set_options(zns_daily_quota=1)
    token = env.token()
    assert env.client.send_zns(token, PHONE, "tpl", {}, "q-1").remaining_quota == 0
    with pytest.raises(QuotaExceeded) as caught:
        env.client.send_zns(token, PHONE, "tpl", {}, "q-2")
    assert isinstance(caught.value, RetryLater) and caught.value.code == -144
    assert caught.value.retry_after >= 60
    assert env.fake.count("q-2") == 0


def test_quota_switch_on_template_and_zns(env: Env):
    token = env.token()
    env.fake.follow(USER)
    env.control("POST", "/_fake/faults", {"quota_exhausted": True})
    with pytest.raises(QuotaExceeded):
        env.client.send_template_message(token, USER, "tpl", {})
    with pytest.raises(QuotaExceeded):
        env.client.send_zns(token, PHONE, "tpl", {}, "q-3")


def test_recipient_faults_give_permanent(env: Env):
    env.control("POST", "/_fake/faults", {"fail_recipients": {PHONE: -139}})
    with pytest.raises(Permanent) as caught:
        env.client.send_zns(env.token(), PHONE, "tpl", {}, "refused-1")
    assert caught.value.code == -139


# -- followers, articles, broadcast --------------------------------------------------------------


def test_followers_are_paged_with_a_data_json_parameter(env: Env):
    token = env.token()
    for i in range(60):
        env.fake.follow(f"u{i:03d}")
    env.fake.interact("not-a-follower")
    page = env.client.list_followers(token, offset=0, count=50)
    assert (page["total"], page["count"], page["offset"]) == (60, 50, 0)
    rest = env.client.list_followers(token, offset=50, count=50)
    assert [u["user_id"] for u in rest["users"]] == [f"u{i:03d}" for i in range(50, 60)]
    with pytest.raises(Permanent):
        env.client.list_followers(token, count=51)


def test_article_broadcast_reaches_followers(env: Env):
    env.fake.set_options(article_processing=1.0)
    token = env.token()
    env.fake.follow("u1")
    env.fake.follow("u2")
    with pytest.raises(Permanent):  # Zalo requires the author, the description and a cover photo
        env.client.create_article(token, "Thông báo bão số 3", "Người dân chú ý…", description="Khẩn")
    article_token = env.client.create_article(
        token,
        "Thông báo bão số 3",
        "Người dân chú ý…",
        author="UBND tỉnh",
        description="Khẩn",
        cover_photo_url="https://example.org/bia.jpg",
    )
    assert env.client.verify_article(token, article_token) is None  # still processing (−214)
    env.fake.advance_clock(1.1)  # the fake's clock, not a sleep
    article_id = env.client.verify_article(token, article_token)
    assert article_id
    with pytest.raises(Permanent):
        env.client.broadcast_article(token, "not-an-article")
    message_id = env.client.broadcast_article(token, article_id, target={"cities": "4"})
    assert message_id
    got = env.fake.find_messages(kind="broadcast")
    assert sorted(m["recipient"] for m in got) == ["u1", "u2"]
    assert env.fake.count(f"broadcast|{OA_ID}|{article_id}") == 1


# -- fault switches ------------------------------------------------------------------------------


def test_rate_limit_is_retry_later(env: Env):
    token = env.token()
    env.fake.interact(USER)
    env.control("POST", "/_fake/faults", {"rate_limit_next": 2})
    for _ in range(2):
        with pytest.raises(RateLimited) as caught:
            env.client.send_cs_message(token, USER, "Xin chào")
        assert isinstance(caught.value, RetryLater) and caught.value.code == -32
    assert env.client.send_cs_message(token, USER, "Xin chào")
    assert env.fake.count(f"cs|{USER}|Xin chào") == 1


def test_rate_limit_on_the_oauth_endpoint_is_retry_later(env: Env):
    env.control("POST", "/_fake/faults", {"rate_limit_next": 1})
    with pytest.raises(RateLimited):
        env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    assert env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)


def test_per_minute_rate_limit(env: Env):
    env.fake.set_options(rate_limit_per_minute=3)
    token = env.token()
    for _ in range(3):
        env.client.zns_quota(token)
    with pytest.raises(RateLimited):
        env.client.zns_quota(token)


def test_http_5xx_is_retry_later(env: Env):
    token = env.token()
    env.control("POST", "/_fake/faults", {"http_error_next": 1, "http_error_status": 502})
    with pytest.raises(TransportFailure) as caught:
        env.client.send_zns(token, PHONE, "tpl", {}, "h-1")
    assert isinstance(caught.value, RetryLater) and caught.value.http_status == 502
    assert env.fake.count("h-1") == 0
    assert env.client.send_zns(token, PHONE, "tpl", {}, "h-1").msg_id
    assert env.fake.count("h-1") == 1


def test_slow_answer_beyond_the_client_timeout_is_retry_later():
    env = start_env(timeout=0.3)
    try:
        token = env.token()
        env.control("POST", "/_fake/faults", {"slow_seconds": 1.0, "slow_next": 1})
        started = time.monotonic()
        with pytest.raises(RetryLater) as caught:
            env.client.send_zns(token, PHONE, "tpl", {}, "slow-1")
        assert time.monotonic() - started < 0.9
        assert "timeout" in str(caught.value)
        assert env.client.send_zns(token, PHONE, "tpl", {}, "slow-2").msg_id  # next one is fast again
    finally:
        env.close()


def test_dropped_connection_is_retry_later(env: Env):
    token = env.token()
    env.control("POST", "/_fake/faults", {"drop_next": 1})
    with pytest.raises(TransportFailure):
        env.client.send_zns(token, PHONE, "tpl", {}, "drop-1")
    assert env.fake.count("drop-1") == 0
    assert env.client.send_zns(token, PHONE, "tpl", {}, "drop-1").msg_id
    assert env.fake.count("drop-1") == 1


def test_an_answer_held_past_the_client_timeout_is_lost_but_the_message_was_accepted():
    env = start_env(timeout=0.3)
    try:
        token = env.token()
        env.fake.interact(USER)
        env.fake.set_faults(hold_answer_next=1, hold_answer_seconds=1.0, fault_paths=["/v3.0/oa/message/cs"])
        with pytest.raises(TransportFailure):
            env.client.send_cs_message(token, USER, "Giữ câu trả lời")
        assert env.fake.count(f"cs|{USER}|Giữ câu trả lời") == 1  # accepted all the same
        assert env.fake.stats()["faults_injected"]["hold_answer"] == 1
        assert env.client.send_zns(token, PHONE, "tpl", {}, "after-hold").msg_id  # other paths untouched
    finally:
        env.close()


def test_conversation_lists_the_oa_messages_to_one_user_newest_first(env: Env):
    token = env.token()
    env.fake.interact(USER)
    env.fake.follow(USER)
    first = env.client.send_cs_message(token, USER, "Tin thứ nhất")
    env.fake.send_text(USER, "Công dân hỏi")
    second = env.client.send_template_message(token, USER, "tpl-1", {"ma_ho_so": "H-1"})
    items = env.client.conversation(token, USER)
    assert [i["message_id"] for i in items if i["from_id"] != USER] == [second, first]
    assert [i["message"] for i in items if i["from_id"] == USER] == ["Công dân hỏi"]
    assert items[-1]["type"] == "text" and items[0]["type"] == "template" and "H-1" in items[0]["message"]
    assert env.client.conversation(token, USER, offset=1, count=1)[0]["message"] == "Công dân hỏi"
    assert env.client.conversation(token, "nobody") == []
    with pytest.raises(Permanent):
        env.client.conversation(token, USER, count=11)


def test_dropped_answer_after_acceptance_shows_up_as_a_duplicate(env: Env):
    """The dangerous case: Zalo accepted, the answer was lost, a blind retry sends twice."""
    token = env.token()
    env.control("POST", "/_fake/faults", {"drop_next": 1, "drop_after_processing": True})
    with pytest.raises(RetryLater):
        env.client.send_zns(token, PHONE, "tpl", {}, "lost-1")
    assert env.fake.count("lost-1") == 1
    env.client.send_zns(token, PHONE, "tpl", {}, "lost-1")
    assert env.control("GET", "/_fake/stats")["duplicates"] == {"lost-1": 2}


def test_fault_paths_limit_faults_to_some_endpoints(env: Env):
    token = env.token()
    env.control("POST", "/_fake/faults", {"http_error_next": 5, "fault_paths": ["/message/template"]})
    assert env.client.list_followers(token)["total"] == 0
    with pytest.raises(TransportFailure):
        env.client.send_zns(token, PHONE, "tpl", {}, "fp-1")


def test_night_ban_is_night_ban_with_six_am_retry(env: Env):
    token = env.token()
    env.fake.follow(USER)
    env.fake.interact(USER)
    env.control("POST", "/_fake/faults", {"night_ban": "on"})
    with pytest.raises(NightBan) as caught:
        env.client.send_zns(token, PHONE, "tpl", {}, "night-1")
    assert caught.value.code == -133
    local = caught.value.retry_at
    assert (local.hour, local.minute, local.utcoffset().total_seconds()) == (6, 0, 7 * 3600)
    assert 0 < caught.value.retry_after <= 86400
    assert not isinstance(caught.value, RetryLater)
    with pytest.raises(NightBan) as caught:
        env.client.send_template_message(token, USER, "tpl", {})
    assert caught.value.code == -234
    # customer-service replies are not blocked at night
    assert env.client.send_cs_message(token, USER, "Trả lời ban đêm")


def test_night_ban_clock_mode_follows_vietnam_time(env: Env):
    env.control("POST", "/_fake/faults", {"night_ban": "clock"})
    vn_now = datetime.fromtimestamp(env.fake.now(), VN_TZ)
    noon = vn_now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= vn_now:
        noon += timedelta(days=1)
    env.control("POST", "/_fake/clock", {"advance": (noon - vn_now).total_seconds()})
    assert env.client.send_zns(env.token(), PHONE, "tpl", {}, "noon").msg_id
    env.control("POST", "/_fake/clock", {"advance": 11 * 3600})  # 23:xx in Việt Nam
    with pytest.raises(NightBan):
        env.client.send_zns(env.token(), PHONE, "tpl", {}, "late")


def test_appsecret_proof_is_sent_and_checked():
    env = start_env(app_secret=APP_SECRET, require_appsecret_proof=True)
    try:
        token = env.token()
        assert env.client.send_zns(token, PHONE, "tpl", {}, "proof-1").msg_id
        wrong = ZaloClient(env.url, env.url, env.url, app_secret="other-secret")
        with pytest.raises(Permanent):
            wrong.send_zns(token, PHONE, "tpl", {}, "proof-2")
        wrong.close()
    finally:
        env.close()


def test_tokens_and_secrets_never_reach_the_logs(env: Env, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    token = env.token()
    env.control("POST", "/_fake/faults", {"http_error_next": 1})
    with pytest.raises(RetryLater):
        env.client.send_cs_message(token, USER, "x")
    with pytest.raises(NotInteracted):
        env.client.send_cs_message(token, USER, "x")
    with pytest.raises(OAuthRejected) as caught:
        env.client.refresh_access_token(APP_ID, APP_SECRET, "dead-refresh-token")
    text = caplog.text + str(caught.value)
    assert token not in text and APP_SECRET not in text and "dead-refresh-token" not in text


# -- webhooks ------------------------------------------------------------------------------------


def test_delivery_webhook_reaches_the_portal_signed_with_our_tracking_id(receiver: WebhookReceiver):
    env = start_env(webhook_url=receiver.url, seen_delay=0.05)
    try:
        result = env.client.send_zns(env.token(), PHONE, "tpl", {"name": "An"}, "hs-77-zns-1")
        headers, body = receiver.wait_for(lambda e: e["event_name"] == "user_received_message")
        event = json.loads(body)
        assert event["message"]["tracking_id"] == "hs-77-zns-1"
        assert event["message"]["msg_id"] == result.msg_id
        assert event["recipient"]["id"] == PHONE and event["sender"]["id"] == OA_ID
        assert event["app_id"] == APP_ID and isinstance(event["timestamp"], str)
        assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
        assert not verify_event_signature(body, headers["x-zevent-signature"], APP_SECRET)
        headers, body = receiver.wait_for(lambda e: e["event_name"] == "user_seen_message")
        assert json.loads(body)["message"]["msg_ids"] == [result.msg_id]
        assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
        assert f"/zalo/webhook/{OA_ID}/" in receiver.url.replace("{oa_id}", OA_ID)
    finally:
        env.close()


def test_citizen_text_and_follow_reach_the_portal(receiver: WebhookReceiver):
    env = start_env(webhook_url=receiver.url)
    try:
        answer = env.control("POST", "/_fake/send_text", {"user_id": USER, "text": "Hồ sơ của tôi?", "sync": True})
        assert answer["status"] == 200
        headers, body = receiver.wait_for(lambda e: e["event_name"] == "user_send_text")
        event = json.loads(body)
        assert event["sender"]["id"] == USER and event["recipient"]["id"] == OA_ID
        assert event["message"] == {"text": "Hồ sơ của tôi?", "msg_id": answer["msg_id"]}
        assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
        env.control("POST", "/_fake/follow", {"user_id": USER})
        headers, body = receiver.wait_for(lambda e: e["event_name"] == "follow")
        assert json.loads(body)["follower"] == {"id": USER}
        assert verify_event_signature(body, headers["x-zevent-signature"], OA_SECRET_KEY)
    finally:
        env.close()


def test_webhooks_are_retried_when_the_portal_fails():
    receiver = WebhookReceiver(status=500)
    env = start_env(webhook_url=receiver.url, webhook_retries=1)
    try:
        env.control("POST", "/_fake/send_text", {"user_id": USER, "text": "a"})
        # The receiver sees a call before the fake records its status: wait for the fake's own record
        # of both attempts (the retry comes 1 s after the first), not for the receiver.
        env.fake.wait_until(lambda fake: len(fake.webhook_log) >= 2, timeout=30)
        assert len(receiver.calls) == 2
        assert receiver.calls[0][1] == receiver.calls[1][1]
        log = env.control("GET", "/_fake/webhooks")["webhooks"]
        assert [w["status"] for w in log] == [500, 500]
    finally:
        env.close()
        receiver.close()


# -- agreement with the doc ----------------------------------------------------------------------


def test_client_and_fake_use_the_documented_paths():
    import fakezalo as fake
    from zalo import client

    documented = {
        "/v4/oa/access_token",
        "/v4/oa/permission",
        "/v3.0/oa/message/cs",
        "/v3.0/oa/message/template",
        "/v3.0/oa/quota/message",
        "/v3.0/oa/user/getlist",
        "/v2.0/oa/message",
        "/v2.0/article/create",
        "/v2.0/article/verify",
        "/message/template",
        "/message/quota",
        "/v2.0/oa/conversation",
        "/template/info/v2",  # an approved template's parameters (zalo.template_info, issue 10.6)
    }

    client_paths = {v for k, v in vars(client).items() if k.endswith("_PATH")}
    assert client_paths == documented == set(fake.ZALO_PATHS)


def test_wire_format_headers_and_bodies():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v4/oa/access_token":
            return httpx.Response(200, json={"access_token": "A", "refresh_token": "R", "expires_in": "90000"})
        data = {"message_id": "1", "msg_id": "2", "sent_time": "3", "quota": {"dailyQuota": 5, "remainingQuota": "4"}}
        return httpx.Response(200, json={"error": 0, "message": "Success", "data": data})

    transport = httpx.MockTransport(answer)
    client = ZaloClient("http://oauth.x", "http://openapi.x/", "http://business.x", transport=transport)
    client.refresh_access_token("app", "secret", "rt")
    client.send_cs_message("tok", "u1", "chào")
    result = client.send_zns("tok", PHONE, "t1", {"a": "b"}, "track", development=True)
    client.list_followers("tok", 10, 20)
    client.close()
    oauth, cs, zns, followers = seen
    assert str(oauth.url) == "http://oauth.x/v4/oa/access_token" and oauth.headers["secret_key"] == "secret"
    assert oauth.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(oauth.content.decode())
    assert form == {"refresh_token": ["rt"], "app_id": ["app"], "grant_type": ["refresh_token"]}
    assert str(cs.url) == "http://openapi.x/v3.0/oa/message/cs" and cs.headers["access_token"] == "tok"
    assert "authorization" not in cs.headers and "appsecret_proof" not in cs.headers
    assert json.loads(cs.content) == {"recipient": {"user_id": "u1"}, "message": {"text": "chào"}}
    assert str(zns.url) == "http://business.x/message/template"
    assert json.loads(zns.content) == {
        "phone": PHONE,
        "template_id": "t1",
        "template_data": {"a": "b"},
        "tracking_id": "track",
        "mode": "development",
    }
    assert (result.daily_quota, result.remaining_quota) == (5, 4)
    assert followers.method == "GET" and followers.url.path == "/v3.0/oa/user/getlist"
    assert json.loads(followers.url.params["data"]) == {"offset": 10, "count": 20, "is_follower": True}


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (200, b"not json", TransportFailure),
        (200, b"[1,2]", TransportFailure),
        (404, b"{}", TransportFailure),
        (200, b'{"error":-999,"message":"?"}', Permanent),
        (200, b'{"error":"-216","message":"string code"}', TokenInvalid),
    ],
)
def test_odd_answers(status: int, content: bytes, expected: type):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    with ZaloClient("http://o", "http://a", "http://b", transport=transport) as client:
        with pytest.raises(expected):
            client.send_cs_message("tok", "u", "x")


def test_empty_oauth_answer_means_the_refresh_token_is_gone(env: Env):
    env.fake.set_options(reused_refresh_answer="empty")
    pair = env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    assert pair.access_token
    with pytest.raises(OAuthRejected, match="empty"):
        env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)


def test_transport_failure_when_nothing_listens():
    with ZaloClient("http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9", timeout=1) as client:
        with pytest.raises(TransportFailure):
            client.send_cs_message("tok", "u", "x")
