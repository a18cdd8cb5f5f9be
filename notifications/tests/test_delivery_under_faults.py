"""Exactly once, end to end: dossier events → outbox → a real Celery worker on Redis → the fake Zalo
→ signed delivery webhooks → the portal (a real server process), with faults injected on the way:
5xx answers, timeouts, −32 rate limits, an access token expired mid-run, Redis restarted while
messages are queued (the queue is lost), and a worker killed with SIGKILL in the middle of a send.

Every message must be accepted by the fake exactly once (counted by our tracking id at the fake).
Runs on a throwaway province whose schema is dropped afterwards.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from provinces.services import ProvinceSpec, create_province
from zalo.fake import run_in_thread
from zalo.tests.support import APP

# Not in a test transaction: everything here is committed, as in production.
pytestmark = [pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
SLUG = "thuzalo"
N = 12
TIMING = {  # short windows so that recovery happens within the test
    "NOTIFICATION_CONFIRM_SECONDS": "4",
    "NOTIFICATION_STALE_SECONDS": "3",
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.5",
    "NOTIFICATION_RETRY_CAP_SECONDS": "2",
    "ZALO_HTTP_TIMEOUT": "1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def drop_province():
    from provinces.models import Domain, Province

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
    Domain.objects.filter(tenant__schema_name=SLUG).delete()
    Province.objects.filter(schema_name=SLUG).delete()


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """Province + fake Zalo + portal server + worker factory; all torn down afterwards."""
    from dossiers.demo import seed_catalogue
    from offices.demo import seed as seed_offices
    from provinces.models import Domain
    from zalo.models import ZaloAccount

    port = free_port()
    fake_server, fake_url = run_in_thread(
        apps=[{**APP, "webhook_url": f"http://127.0.0.1:{port}/zalo/webhook/"}], delivery_delay=0.1, seen_delay=-1
    )
    fake_server.fake.templates.update({"tpl-tn": {"params": ["ma_ho_so", "ten_thu_tuc", "ngay_hen", "noi_dung"]}})
    # Tests have their own Redis database, so the worker can serve the ordinary queue there.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with django_db_blocker.unblock():
        drop_province()
        province, _ = create_province(ProvinceSpec("Tỉnh Thử Zalo", SLUG, f"{SLUG}.localhost", "000.00.01.H97"))
        # The fake posts its webhooks to 127.0.0.1: route that host name to this province too.
        Domain.objects.create(domain="127.0.0.1", tenant=province, is_primary=False)
        with tenant_context(province):
            seed_offices(province)
            seed_catalogue()
            ZaloAccount.objects.create(
                **{k: APP[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                refresh_token=APP["refresh_token"],
                **{
                    f: "tpl-tn"
                    for f in (
                        "template_receipt",
                        "template_supplement",
                        "template_result_early",
                        "template_result_ready",
                        "template_apology",
                    )
                },
            )
        connection.set_schema_to_public()
        db_name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        **TIMING,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "ZALO_OAUTH_BASE_URL": fake_url,
        "ZALO_OPENAPI_BASE_URL": fake_url,
        "ZALO_BUSINESS_BASE_URL": fake_url,
        "TENANT_CACHE_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    logs = ROOT / "test-output" / "outbox"
    logs.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=open(logs / "server.log", "w"),
        stderr=subprocess.STDOUT,
    )
    workers = []

    def start_worker():
        log = logs / f"worker-{len(workers)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "egov",
                "worker",
                "-Q",
                queue,
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-n",
                f"outbox-test-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )
        workers.append(process)
        wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 60, "the worker to start")
        assert process.poll() is None, log.read_text()[-2000:]
        return process

    try:
        wait_for(lambda: _answers(port), 30, "the portal server")
        yield {"province": province, "fake": fake_server.fake, "start_worker": start_worker, "workers": workers}
    finally:
        for process in [server, *workers]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        fake_server.stop()
        with django_db_blocker.unblock():
            drop_province()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def restart_redis():
    """Stop the Redis server (it keeps nothing on disk: queued messages are lost) and start it again."""
    url = redis.Redis.from_url(settings.REDIS_URL).connection_pool.connection_kwargs
    port = url.get("port", 6379)
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)
    wait_for(lambda: not _answers(port), 10, "Redis to stop")
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    wait_for(lambda: _answers(port), 10, "Redis to start")


def test_every_message_is_accepted_exactly_once_despite_faults(stack, django_db_blocker, settings):
    from dossiers import services
    from dossiers.models import Procedure
    from notifications import delivery
    from notifications.models import Notification, State
    from notifications.tasks import send_notification
    from offices.models import Officer

    for name, value in TIMING.items():
        setattr(settings, name, float(value))
    fake, province = stack["fake"], stack["province"]
    fake.set_faults(
        http_error_next=2, rate_limit_next=2, slow_seconds=1.5, slow_next=2, fault_paths=["/message/template"]
    )
    worker = stack["start_worker"]()

    def receive(n):
        with tenant_context(province):
            procedure = Procedure.objects.get(code="1.004873")
            services.receive_dossier(
                officer=Officer.objects.get(user__username="motcua"),
                procedure=procedure,
                applicant=services.Applicant(f"Người thử {n}", phone=f"09050{n:05d}"),
                components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
            )
        connection.set_schema_to_public()

    def states():
        with tenant_context(province):
            return dict(Notification.objects.order_by("pk").values_list("tracking_id", "state"))

    def reap():  # what beat does every minute, here every half second
        with tenant_context(province):
            for pk in delivery.reap():
                send_notification.delay(pk)
        connection.set_schema_to_public()

    def settle(indices, seconds=60):
        """Reap (as beat would) until the messages of these dossiers are all sent."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            current = list(states().values())
            if len(current) > max(indices) and all(current[i] == State.SENT for i in indices):
                return
            reap()
            time.sleep(0.5)
        raise AssertionError(f"not all sent: {states()}")

    with django_db_blocker.unblock():
        # 5xx, −32 and slow answers (beyond the client's timeout) on the first sends.
        for n in range(4):
            receive(n)
        settle(range(4))
        fake.expire_tokens()  # mid-run: the next send gets −216 and refreshes once
        for n in range(4, 7):
            receive(n)
        settle(range(7))

        # Redis restarted while messages are queued: the worker is stopped, the queue is lost.
        worker.terminate()
        worker.wait(timeout=15)
        for n in range(7, 10):
            receive(n)
        restart_redis()
        worker = stack["start_worker"]()
        settle(range(10))

        # A worker killed in the middle of a send (the fake still accepts that message).
        fake.set_faults(slow_seconds=4, slow_next=1, fault_paths=["/message/template"])
        for n in range(10, N):
            receive(n)
        wait_for(lambda: State.SENDING in states().values(), 30, "a send in flight")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        stack["start_worker"]()
        settle(range(N), seconds=90)
        final = states()

    assert len(final) == N and set(final.values()) == {State.SENT}, final
    counts = {tracking_id: fake.count(tracking_id) for tracking_id in final}
    assert counts == dict.fromkeys(final, 1), counts  # none lost, none twice
    stats = fake.stats()
    assert stats["duplicates"] == {}
    assert stats["requests_by_path"].get("/v4/oa/access_token", 0) >= 2  # first token + refresh after expiry
    assert {"http_error", "rate_limit", "slow"} <= set(stats["faults_injected"]), stats["faults_injected"]
