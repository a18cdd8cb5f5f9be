"""A worker killed in the middle of an emergency broadcast, then restarted: every follower gets the
warning exactly once (counted at the fake Zalo), through a real worker on the broadcasts queue."""

import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for
from testing.zalo import APP

pytestmark = [pytest.mark.worker]
FOLLOWERS = 40
TIMING = {"NOTIFICATION_CONFIRM_SECONDS": "3", "NOTIFICATION_STALE_SECONDS": "3", "ZALO_HTTP_TIMEOUT": "5"}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(
        django_db_blocker, slug="thubao", name="Tỉnh Thử Cảnh Báo", agency_code="000.00.01.H96", app=APP,
        queues="broadcasts,default", env_extra=TIMING,  # default: the webhook receipts
    ) as live:  # fmt: skip
        yield live


def test_a_killed_worker_restarted_finishes_with_everyone_messaged_exactly_once(
    stack, django_db_blocker, settings, request
):
    from broadcasts import delivery, services
    from broadcasts.models import Broadcast, Recipient, Severity, State
    from broadcasts.tasks import send_broadcast_batch
    from offices.tests.factories import OfficerFactory
    from zalo import accounts
    from zalo.models import Follower

    for name, value in TIMING.items():
        setattr(settings, name, float(value))
    # This process acts as beat: it reconciles uncertain sends in the OA's conversation at the same fake.
    for name in ("ZALO_OAUTH_BASE_URL", "ZALO_OPENAPI_BASE_URL", "ZALO_BUSINESS_BASE_URL"):
        setattr(settings, name, stack.env[name])
    accounts._client.cache_clear()
    request.addfinalizer(accounts._client.cache_clear)
    fake, province = stack.fake, stack.province
    worker = stack.start_worker()
    with django_db_blocker.unblock():
        with tenant_context(province):
            for i in range(FOLLOWERS):
                Follower.objects.create(user_id=f"k-{i}", is_following=True, last_interaction_at=timezone.now())
                fake.interact(f"k-{i}")
            author, approver = OfficerFactory(role="province_admin"), OfficerFactory(role="province_admin")
            b = services.create(
                author, category="storm_flood", severity=Severity.EMERGENCY, title="Lũ quét",
                body="Sơ tán ngay khỏi vùng trũng.", expires_at=timezone.now() + timedelta(hours=6),
            )  # fmt: skip
            services.submit(b, author)
            # The first send hangs long enough for the worker to be killed in the middle of it
            # (the fake still delivers it afterwards, as Zalo might).
            fake.set_faults(slow_seconds=2.5, slow_next=1, fault_paths=["/v3.0/oa/message/cs"])
            services.approve(b, approver)
        connection.set_schema_to_public()

        def statuses():
            with tenant_context(province):
                return list(Recipient.objects.filter(broadcast_id=b.pk).values_list("status", flat=True))

        # Killed once the slowed send is at Zalo (not earlier: a worker killed in the middle of the token
        # refresh breaks the single-use refresh chain, which is another failure than the one tested here).
        wait_for(lambda: fake.stats()["faults_injected"].get("slow", 0) >= 1, 30, "the slowed send at Zalo")
        assert Recipient.Status.SENDING in statuses()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        stack.start_worker()

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with tenant_context(province):
                if Broadcast.objects.get(pk=b.pk).state == State.SENT:
                    break
                for broadcast_id, batches in delivery.resume().items():  # what beat does every minute
                    for ids in batches:
                        send_broadcast_batch.delay(broadcast_id, ids)
            time.sleep(1)
        with tenant_context(province):
            final = Broadcast.objects.get(pk=b.pk)
        connection.set_schema_to_public()
        counts = Counter(statuses())

    assert final.state == State.SENT, counts
    assert counts == {Recipient.Status.SENT: FOLLOWERS}
    per_follower = {f"k-{i}": len(fake.find_messages(recipient=f"k-{i}", kind="cs")) for i in range(FOLLOWERS)}
    assert per_follower == dict.fromkeys(per_follower, 1), per_follower
    assert fake.stats()["duplicates"] == {}
    # The batches this test sent went to the broadcasts queue, which only broadcast workers consume.
    assert settings.CELERY_TASK_ROUTES["broadcasts.tasks.send_broadcast_batch"]["queue"] == "broadcasts"
