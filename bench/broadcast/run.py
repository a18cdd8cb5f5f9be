"""Broadcast benchmark (not a test): 100,000 followers, the fake Zalo, real Celery workers.

  (a) the raw ceiling: the same HTTP client sends 100,000 CS messages straight to the fake from one
      process (WORKERS threads), no database, no Celery;
  (b) an emergency broadcast end to end (approval → every follower messaged), rate limit off;
  (c) the rate limit at 4,000/minute for one minute, the fake enforcing Zalo's 4,000/minute too:
      achieved rate ÷ configured rate, and the −32 answers seen;
  (d) time from approval to the first follower's message while 100,000 routine messages are queued.
Prints messages/s for (a) and (b) and the ratio b/a.

    python bench/broadcast/run.py [--followers 100000] [--workers 4]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import psycopg
import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from common import DB, REDIS, ROOT, base_env, prepare_database, wait_for_port

FAKE_PORT = 8901
FAKE = f"http://127.0.0.1:{FAKE_PORT}"


def control(path, body=None):
    response = httpx.post(FAKE + path, json=body or {}, timeout=120) if body is not None else httpx.get(FAKE + path)
    response.raise_for_status()
    return response.json()


def seed_followers(n):
    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute("SET search_path TO danang, public")
        have = conn.execute("SELECT count(*) FROM zalo_follower WHERE user_id LIKE 'bf-%%'").fetchone()[0]
        if have < n:
            conn.execute(
                """INSERT INTO zalo_follower (user_id, display_name, is_following, last_interaction_at)
                   SELECT 'bf-' || g, '', true, now() FROM generate_series(%s, %s) g
                   ON CONFLICT (user_id) DO NOTHING""",
                [have, n - 1],
            )
        conn.execute("UPDATE zalo_follower SET last_interaction_at = now() WHERE user_id LIKE 'bf-%%'")
    return [f"bf-{i}" for i in range(n)]


def interact_all(users):
    for i in range(0, len(users), 20_000):
        control("/_fake/interact", {"user_ids": users[i : i + 20_000]})


def raw_ceiling(users, workers):
    from zalo.client import ZaloClient

    token = control("/_fake/tokens", {})["access_token"]
    client = ZaloClient(FAKE, FAKE, FAKE, timeout=10, max_connections=workers)
    chunks = [users[i::workers] for i in range(workers)]

    def run(chunk):
        for user in chunk:
            client.send_cs_message(token, user, "Thử tốc độ: cảnh báo bão")

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, chunks))
    return len(users) / (time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    redis.Redis.from_url(REDIS).flushdb()  # nothing queued by an earlier, interrupted run

    env = base_env(
        ZALO_OAUTH_BASE_URL=FAKE,
        ZALO_OPENAPI_BASE_URL=FAKE,
        ZALO_BUSINESS_BASE_URL=FAKE,
        ZALO_ALLOW_INSECURE_BASE_URLS="1",  # production settings against the local fake
        TENANT_CACHE_SECONDS="0",
    )
    prepare_database(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from broadcasts import services
    from broadcasts.models import Broadcast, BroadcastSettings, Recipient, Severity, State
    from notifications.tasks import send_notification
    from offices.models import Officer
    from offices.services import ensure_officer
    from provinces.models import Province
    from zalo.models import ZaloAccount

    danang = Province.objects.get(slug="danang")
    with tenant_context(danang):
        account = ZaloAccount.objects.get()
        config = {"apps": [{k: getattr(account, k) for k in ("app_id", "app_secret", "oa_id", "oa_secret_key",
                                                              "refresh_token")}]}  # fmt: skip
        first = Officer.objects.get(user__username="quantri")
        second, _ = ensure_officer(username="quantri2", full_name="Lê Văn Duyệt", role="province_admin",
                                   department=first.department)  # fmt: skip
    connection.set_schema_to_public()
    config_path = ROOT / "var" / "bench-fake.json"
    config_path.write_text(json.dumps(config))
    logs = ROOT / "test-output" / "bench-broadcast"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakezalo",
                "--port",
                str(FAKE_PORT),
                "--config",
                str(config_path),
                "--seen-delay",
                "-1",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(logs / "fake.log", "w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    ]
    try:
        wait_for_port(FAKE_PORT)
        users = seed_followers(args.followers)
        interact_all(users)
        print(f"(a) raw ceiling: {args.followers:,} CS messages, {args.workers} threads …", flush=True)
        rate_a = raw_ceiling(users, args.workers)
        control("/_fake/reset", {})
        interact_all(users)

        for queue, concurrency in (("broadcasts", args.workers), ("default", 2)):
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "egov",
                        "worker",
                        "-Q",
                        queue,
                        "-c",
                        str(concurrency),
                        "-n",
                        f"bench-{queue}@%h",
                        "-l",
                        "WARNING",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=open(logs / f"worker-{queue}.log", "w"),
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            )
        time.sleep(6)

        def broadcast(title, rate):
            with tenant_context(danang):
                BroadcastSettings.objects.update_or_create(pk=1, defaults={"rate_per_minute": rate})
                b = services.create(first, category="storm_flood", severity=Severity.EMERGENCY, title=title,
                                    body="Thử tốc độ.", expires_at=timezone.now() + timedelta(hours=1))  # fmt: skip
                services.submit(b, first)
                started = time.monotonic()
                services.approve(b, second)
            connection.set_schema_to_public()
            return b, started

        def state_and_sent(b):
            with tenant_context(danang):
                state = Broadcast.objects.get(pk=b.pk).state
                sent = Recipient.objects.filter(broadcast=b, status=Recipient.Status.SENT).count()
            connection.set_schema_to_public()
            return state, sent

        print("(b) emergency broadcast end to end, rate limit off …", flush=True)
        b, started = broadcast("Bão khẩn cấp (b)", 0)
        while state_and_sent(b)[0] != State.SENT:
            time.sleep(1)
        elapsed_b = time.monotonic() - started
        rate_b = state_and_sent(b)[1] / elapsed_b
        control("/_fake/reset", {})
        interact_all(users)

        print("(c) rate limit 4,000/minute for one minute …", flush=True)
        control("/_fake/options", {"rate_limit_per_minute": 4000})
        c, started = broadcast("Bão khẩn cấp (c)", 4000)
        time.sleep(60)
        sent_c = state_and_sent(c)[1]
        elapsed_c = time.monotonic() - started
        minus_32 = control("/_fake/stats")["faults_injected"].get("rate_limit_per_minute", 0)
        with tenant_context(danang):
            services.cancel(c, second, "hết phép đo")
        connection.set_schema_to_public()
        control("/_fake/options", {"rate_limit_per_minute": 0})
        time.sleep(3)
        control("/_fake/reset", {})
        interact_all(users)

        print("(d) approval → first follower while 100,000 routine messages are queued …", flush=True)
        with tenant_context(danang):
            for _ in range(100_000):
                send_notification.delay(0)  # routine work on the default queue (ids that no longer exist)
        connection.set_schema_to_public()
        d, started = broadcast("Bão khẩn cấp (d)", 0)
        while control("/_fake/stats")["messages"] == 0:
            time.sleep(0.02)
        first_message = time.monotonic() - started
        with tenant_context(danang):
            services.cancel(d, second, "hết phép đo")
        connection.set_schema_to_public()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        redis.Redis.from_url(REDIS).flushdb()  # the benchmark's own database (BENCH_REDIS_URL)

    print(f"\nbroadcast benchmark: {args.followers:,} followers, {args.workers} broadcast workers, fake Zalo")
    print(f"(a) raw ceiling              {rate_a:>10,.0f} messages/s")
    print(f"(b) emergency end to end     {rate_b:>10,.0f} messages/s   ({elapsed_b:.1f} s for everyone)")
    print(f"    ratio b/a = {rate_b / rate_a:.2f}   (target ≥ 0.5)")
    achieved = sent_c / elapsed_c * 60
    print(f"(c) at 4,000/minute: {achieved:,.0f}/minute achieved = {achieved / 4000:.2f} of the rate, "
          f"{minus_32} answers −32   (target ≥ 0.95, zero −32)")  # fmt: skip
    print(f"(d) approval → first follower with 100,000 queued: {first_message:.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
