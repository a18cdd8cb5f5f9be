"""The fake itself: human page, control API, keep-alive HTTP/1.1, CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from testing.zalo import OA_ID, Env, start_env


@pytest.fixture
def env():
    environment = start_env()
    yield environment
    environment.close()


def test_human_page_renders_each_phone_and_escapes_html(env: Env):
    evil = "<script>alert('x')</script>"
    env.fake.follow("u-1", name="Nguyễn Văn <b>An</b>")
    env.control("POST", "/_fake/send_text", {"user_id": "u-1", "text": evil})
    token = env.token()
    env.client.send_cs_message(token, "u-1", "Hồ sơ & kết quả <sẵn sàng>")
    env.client.send_zns(token, "84912345678", "tpl", {"ma": "<H15>"}, "page-1")
    page = env.control_http.get(env.url + "/_fake/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<meta http-equiv="refresh" content="3">' in text
    assert '<html lang="vi">' in text and "Nhắn tin cho OA" in text and "Tin tư vấn" in text
    assert "<script>" not in text and "<b>An</b>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "Hồ sơ &amp; kết quả &lt;sẵn sàng&gt;" in text and "&lt;H15&gt;" in text
    assert "84912345678" in text
    # newest last in a phone
    assert text.index("&lt;script&gt;") < text.index("Hồ sơ &amp; kết quả")
    # one citizen only
    only = env.control_http.get(env.url + "/_fake/", params={"r": f"{OA_ID}|84912345678"}).text
    assert "84912345678" in only and "Hồ sơ &amp; kết quả" not in only


def test_page_form_sends_a_text_as_the_citizen(env: Env):
    answer = env.control_http.post(
        env.url + "/_fake/ui/send_text",
        data={"oa_id": OA_ID, "user_id": "u-9", "text": "Tôi muốn hỏi", "back": "https://evil.example/"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/_fake/"
    inbound = env.fake.find_messages(recipient="u-9", direction="in")
    assert [m["text"] for m in inbound] == ["Tôi muốn hỏi"]
    # it is an interaction: a CS reply is now allowed
    assert env.client.send_cs_message(env.token(), "u-9", "Chào anh")
    follow = env.control_http.post(env.url + "/_fake/ui/follow", data={"oa_id": OA_ID, "user_id": "u-9"})
    assert follow.status_code == 303 and env.fake.citizens[(OA_ID, "u-9")].follower


def test_control_api(env: Env):
    assert env.control("GET", "/_fake/health")["ok"] is True
    added = env.control(
        "POST",
        "/_fake/apps",
        {"app_id": "a2", "app_secret": "s2", "oa_id": "oa2", "oa_secret_key": "k2", "webhook_url": "http://x/{oa_id}"},
    )
    assert added["refresh_token"]
    assert {a["oa_id"] for a in env.control("GET", "/_fake/apps")["apps"]} == {OA_ID, "oa2"}
    assert "k2" not in json.dumps(env.control("GET", "/_fake/apps"))
    assert env.control("POST", "/_fake/faults", {"rate_limit_next": 3})["rate_limit_next"] == 3
    assert env.control("POST", "/_fake/faults/clear")["rate_limit_next"] == 0
    assert env.control("POST", "/_fake/options", {"zns_daily_quota": "7"})["zns_daily_quota"] == 7
    bad = env.control_http.post(env.url + "/_fake/faults", json={"no_such_switch": 1})
    assert bad.status_code == 400
    env.control("POST", "/_fake/follow", {"oa_id": OA_ID, "user_id": "u1"})
    assert env.control("GET", "/_fake/users", oa_id=OA_ID)["users"][0]["follower"] is True
    env.control("POST", "/_fake/interact", {"oa_id": OA_ID, "user_id": "u1", "seconds_ago": 8 * 86400})
    with pytest.raises(Exception, match="-230"):
        env.client.send_cs_message(env.token(), "u1", "x")
    env.client.send_zns(env.token(), "84912345678", "t", {}, "k-1")
    stats = env.control("GET", "/_fake/stats")
    assert stats["accepted"] == {"zns": 1} and stats["requests"] >= 2
    env.control("POST", "/_fake/reset", {})
    assert env.control("GET", "/_fake/messages")["count"] == 0
    assert env.control("GET", "/_fake/stats")["accepted"] == {}
    assert env.control_http.get(env.url + "/_fake/nope").status_code == 404


def test_reset_with_tokens_restores_the_registered_refresh_token(env: Env):
    from testing.zalo import APP_ID, APP_SECRET, REFRESH_TOKEN

    env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN)
    env.control("POST", "/_fake/reset", {"tokens": True})
    assert env.client.refresh_access_token(APP_ID, APP_SECRET, REFRESH_TOKEN).access_token


def test_unknown_zalo_path_is_404(env: Env):
    assert env.control_http.post(env.url + "/v3.0/oa/message/transaction", json={}).status_code == 404


def test_keep_alive_many_requests_on_one_connection(env: Env):
    token = env.token()
    sock = socket.create_connection(("127.0.0.1", env.server.server_address[1]))
    body = json.dumps({"user_id": "u"}).encode()
    request = (
        f"POST /v3.0/oa/quota/message HTTP/1.1\r\nHost: x\r\naccess_token: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader = sock.makefile("rb")
    for _ in range(50):
        sock.sendall(request)
        status = reader.readline()
        assert status.startswith(b"HTTP/1.1 200")
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        assert json.loads(reader.read(length))["error"] == 0
    sock.close()


def test_chunked_request_body_is_read(env: Env):
    token = env.token()

    def chunks():
        yield b'{"user_id":'
        yield b'"u"}'

    answer = httpx.post(env.url + "/v3.0/oa/quota/message", content=chunks(), headers={"access_token": token})
    assert answer.json()["error"] == 0


def test_throughput_smoke(env: Env):
    """Not a benchmark (see zalo/tests/bench_fake.py): only that keep-alive is fast, not 40 ms per request."""
    token = env.token()
    started = time.perf_counter()
    for _ in range(300):
        env.client.zns_quota(token)
    assert time.perf_counter() - started < 3.0


def test_cli_starts_and_serves(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "fake.json"
    config.write_text(json.dumps({"templates": {"t1": {"params": ["name"], "text": "Chào <name>"}}}))
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "fakezalo", "--port", str(port), "--config", str(config), "--zns-daily-quota", "3"]
        + ["--app", "a1:s1:oa1:k1:rt1", "--portal-webhook-url", "http://127.0.0.1:9/{oa_id}"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(url + "/_fake/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        from zalo.client import ZaloClient

        with ZaloClient(url, url, url) as client:
            pair = client.refresh_access_token("a1", "s1", "rt1")
            result = client.send_zns(pair.access_token, "84912345678", "t1", {"name": "An"}, "cli-1")
        assert result.daily_quota == 3 and result.remaining_quota == 2
        apps = httpx.get(url + "/_fake/apps").json()["apps"]
        assert apps == [{"app_id": "a1", "oa_id": "oa1", "name": "OA oa1", "webhook_url": None}]
    finally:
        process.terminate()
        process.wait(5)
    assert b"/_fake/" in process.stdout.read()
