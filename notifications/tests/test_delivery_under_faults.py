"""Exactly once, end to end: dossier events → outbox → a real Celery worker on Redis → the fake Zalo
→ signed delivery webhooks → the portal (a real server process), with faults injected on the way:
5xx answers, timeouts, −32 rate limits, an access token expired mid-run, Redis restarted while
messages are queued (the queue is lost), and a worker killed with SIGKILL in the middle of a send.

Every message must be accepted by the fake exactly once (counted by our tracking id at the fake).
Runs on a throwaway province whose schema is dropped afterwards, and on a private ``redis-server``
started by the test (the server, the workers and this process all use it): restarting it touches
no other Redis on the machine.
"""

import signal
import time

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for
from testing.zalo import APP

# Not in a test transaction: everything here is committed, as in production.
pytestmark = [pytest.mark.worker]

SLUG = "thuzalo"
N = 12
TIMING = {  # short windows so that recovery happens within the test
    "NOTIFICATION_CONFIRM_SECONDS": "4",
    "NOTIFICATION_STALE_SECONDS": "3",
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.5",
    "NOTIFICATION_RETRY_CAP_SECONDS": "2",
    "ZALO_HTTP_TIMEOUT": "1",
}


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction (everything here is committed, as in production).

    Named ``db`` so that pytest-django creates the test database even when this module runs alone.
    """


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """Province + fake Zalo + portal server + worker factory; all torn down afterwards."""
    with live_stack(
        django_db_blocker,
        slug=SLUG,
        name="Tỉnh Thử Zalo",
        agency_code="000.00.01.H97",
        app=APP,
        queues=settings.CELERY_TASK_DEFAULT_QUEUE,  # on the stack's private Redis
        env_extra=TIMING,
    ) as live:
        yield live


def restart_redis(stack):
    """Restart the stack's private Redis (it keeps nothing on disk: queued messages are lost)."""
    from egov.celery import app

    # This process, the server and the workers all use the private server: never the shared one.
    assert stack.redis.url == settings.REDIS_URL == settings.CELERY_BROKER_URL == app.conf.broker_url
    assert stack.env["REDIS_URL"] == stack.env["CELERY_BROKER_URL"] == stack.redis.url
    stack.redis.restart()
    assert redis.Redis.from_url(stack.redis.url).dbsize() == 0


def test_every_message_is_accepted_exactly_once_despite_faults(db, stack, django_db_blocker, settings):
    from dossiers import services
    from dossiers.models import Procedure
    from notifications import delivery
    from notifications.models import Notification, State
    from notifications.tasks import send_notification
    from offices.models import Officer

    for name, value in TIMING.items():
        setattr(settings, name, float(value))
    fake, province = stack.fake, stack.province
    fake.set_faults(
        http_error_next=2, rate_limit_next=2, slow_seconds=1.5, slow_next=2, fault_paths=["/message/template"]
    )
    worker = stack.start_worker()

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
        restart_redis(stack)
        worker = stack.start_worker()
        settle(range(10))

        # A worker killed in the middle of a send (the fake still accepts that message).
        fake.set_faults(slow_seconds=4, slow_next=1, fault_paths=["/message/template"])
        for n in range(10, N):
            receive(n)
        wait_for(lambda: State.SENDING in states().values(), 30, "a send in flight")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        stack.start_worker()
        settle(range(N), seconds=90)
        final = states()

    assert len(final) == N and set(final.values()) == {State.SENT}, final
    counts = {tracking_id: fake.count(tracking_id) for tracking_id in final}
    assert counts == dict.fromkeys(final, 1), counts  # none lost, none twice
    stats = fake.stats()
    assert stats["duplicates"] == {}
    assert stats["requests_by_path"].get("/v4/oa/access_token", 0) >= 2  # first token + refresh after expiry
    assert {"http_error", "rate_limit", "slow"} <= set(stats["faults_injected"]), stats["faults_injected"]
